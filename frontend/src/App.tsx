// The app shell: signs in again from the stored refresh token, then routes by the URL hash
// between sign-in, the projects home, the template gallery and the editor (H5's
// EditorScreen). Signed-out visitors are sent to #/login and come back where they were going.
import { useEffect, useRef, useState } from "react";
import { EditorScreen } from "./editor/EditorScreen";
import { LoginScreen, Logo } from "./screens/LoginScreen";
import { ProjectsScreen } from "./screens/ProjectsScreen";
import { TemplatesScreen } from "./screens/TemplatesScreen";
import { navigate, parseRoute, routeHash, useHash, type Route } from "./screens/route";
import { displayName, useAuth } from "./store/auth";
import { Spinner } from "./ui/EmptyState";
import { PromptDialog } from "./ui/Modal";
import { toast, Toaster } from "./ui/toast";

let returnTo: string | null = null; // where a signed-out visitor wanted to go
let signingOut = false; // an explicit sign-out: the next sign-in starts at the projects

export function App() {
  const status = useAuth((s) => s.status);
  const restore = useAuth((s) => s.restore);
  const hash = useHash();
  const route = parseRoute(hash);
  const isAuthRoute = route.name === "login" || route.name === "register";

  useEffect(() => {
    void restore();
  }, [restore]);

  useEffect(() => {
    if (status === "signedOut" && !isAuthRoute) {
      if (!signingOut && hash && hash !== "#/" && hash !== "#") returnTo = hash;
      signingOut = false;
      navigate({ name: "login" }, { replace: true });
    } else if (status === "signedIn" && isAuthRoute) {
      const to = returnTo;
      returnTo = null;
      if (to && !/^#\/(login|register)/.test(to)) {
        window.history.replaceState(null, "", window.location.pathname + to);
        window.dispatchEvent(new HashChangeEvent("hashchange"));
      } else {
        navigate({ name: "projects" }, { replace: true });
      }
    } else if (status === "signedIn" && (!hash || hash === "#" || hash === "#/")) {
      navigate({ name: "projects" }, { replace: true });
    }
  }, [status, isAuthRoute, hash]);

  return (
    <>
      {status === "unknown" ? (
        <div className="boot"><Spinner label="Signing in" /></div>
      ) : status === "signedOut" ? (
        isAuthRoute ? <LoginScreen mode={route.name === "register" ? "register" : "login"} />
          : null
      ) : route.name === "editor" ? (
        <div className="editor-root">
          <EditorScreen key={route.projectId} projectId={route.projectId} />
        </div>
      ) : isAuthRoute ? null : (
        <Shell route={route} />
      )}
      <Toaster />
    </>
  );
}

function Shell({ route }: { route: Route }) {
  return (
    <div className="shell">
      <header className="topbar">
        <a className="brand" href={routeHash({ name: "projects" })}>
          <Logo size={20} />
          <span>sdsim</span>
        </a>
        <nav className="nav" aria-label="Main">
          <NavLink to={{ name: "projects" }} current={route} testId="nav-projects">Projects</NavLink>
          <NavLink to={{ name: "templates" }} current={route} testId="nav-templates">
            Templates
          </NavLink>
        </nav>
        <div className="topbar-spacer" />
        <UserMenu />
      </header>
      <main className="main">
        {route.name === "templates" ? <TemplatesScreen /> : <ProjectsScreen />}
      </main>
    </div>
  );
}

function NavLink({ to, current, testId, children }: {
  to: Route; current: Route; testId: string; children: React.ReactNode;
}) {
  const active = to.name === current.name;
  return (
    <a href={routeHash(to)} className={`nav-link ${active ? "nav-link-active" : ""}`}
       aria-current={active ? "page" : undefined} data-testid={testId}>
      {children}
    </a>
  );
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
    const onKey = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
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
            <div className="muted small">{user?.email}</div>
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
