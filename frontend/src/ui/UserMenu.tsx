// The signed-in user's avatar and menu (name, email, edit name, sign out). Used by the app's
// top bar; the editor may put it in its own top bar too.
import { useEffect, useRef, useState } from "react";
import { displayName, useAuth } from "../store/auth";
import { PromptDialog } from "./Modal";
import { toast } from "./toast";

let signingOut = false;

/** True once after the user chose "Sign out" (App then forgets the page to come back to). */
export function takeSigningOut(): boolean {
  const v = signingOut;
  signingOut = false;
  return v;
}

/** The signed-in user's avatar with a menu: their name and email, rename, sign out. */
export function UserMenu() {
  const user = useAuth((s) => s.user);
  const logout = useAuth((s) => s.logout);
  const updateProfile = useAuth((s) => s.updateProfile);
  const [open, setOpen] = useState(false);
  const [editing, setEditing] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  const name = displayName(user);

  useEffect(() => {
    if (!open) return;
    const onDown = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    const items = () => Array.from(ref.current?.querySelectorAll<HTMLElement>("[role=menuitem]") ?? []);
    items()[0]?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === "Escape") {
        setOpen(false);
        ref.current?.querySelector<HTMLElement>(".avatar-btn")?.focus();
      } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        const list = items();
        const i = list.indexOf(document.activeElement as HTMLElement);
        const step = e.key === "ArrowDown" ? 1 : -1;
        list[(i + step + list.length) % list.length]?.focus();
      }
    };
    document.addEventListener("mousedown", onDown);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("mousedown", onDown);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  return (
    <div className="user-menu" ref={ref}>
      <button className="avatar-btn" onClick={() => setOpen((o) => !o)} aria-haspopup="menu"
              aria-expanded={open} data-testid="user-menu">
        <span className="avatar" aria-hidden="true">{initials(name)}</span>
        <span className="avatar-name" data-testid="user-name">{name}</span>
      </button>
      {open && (
        <div className="menu" role="menu">
          <div className="menu-head">
            <div className="strong">{name}</div>
            <div className="muted small" data-testid="user-email">{user?.email}</div>
            {user?.limits && (
              <div className="muted small" data-testid="user-plan">
                {titleCase(user.subscriptionTier)} plan · {user.limits.projectsUsed}
                {user.limits.maxProjects >= 0 ? ` of ${user.limits.maxProjects}` : ""} projects
              </div>
            )}
          </div>
          <button role="menuitem" className="menu-item" data-testid="profile-edit"
                  onClick={() => { setOpen(false); setEditing(true); }}>
            Edit name
          </button>
          <button role="menuitem" className="menu-item" data-testid="sign-out"
                  onClick={() => { setOpen(false); signingOut = true; void logout(); }}>
            Sign out
          </button>
        </div>
      )}
      {editing && (
        <PromptDialog
          title="Your name"
          label="Name"
          initial={user?.name ?? ""}
          maxLength={100}
          onClose={() => setEditing(false)}
          onSubmit={async (n) => {
            await updateProfile({ name: n });
            toast.success("Name saved");
          }}
        />
      )}
    </div>
  );
}

function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter(Boolean);
  const s = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] ?? "?").slice(0, 2);
  return s.toUpperCase();
}

function titleCase(s: string) {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}
