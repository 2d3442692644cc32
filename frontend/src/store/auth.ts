// Who is signed in. The access token lives in memory only (api/client.ts); the refresh token
// in localStorage, so a reload signs in again through POST /api/auth/refresh (restore()).
import { create } from "zustand";
import {
  api,
  getRefreshError,
  getRefreshToken,
  onSessionChange,
  refreshSession,
  setSession,
} from "../api/client";
import type { Session, User } from "../api/types";

export type AuthStatus = "unknown" | "signedOut" | "signedIn";

export interface RegisterInput {
  email: string;
  password: string;
  name?: string;
}

interface AuthState {
  status: AuthStatus;
  user: User | null;
  /** Set when restore() could not reach the server (the sign-in is kept for a retry). */
  restoreError: string | null;
  login(email: string, password: string): Promise<void>;
  register(input: RegisterInput): Promise<void>;
  logout(): Promise<void>;
  /** At start: sign in again from the stored refresh token, if any. */
  restore(): Promise<void>;
  /** GET /api/me (the user with limits). */
  loadMe(): Promise<void>;
  updateProfile(patch: { name?: string; email?: string }): Promise<void>;
}

export const useAuth = create<AuthState>((set, get) => {
  const signedIn = (s: Session) => {
    setSession(s);
    set({ status: "signedIn", user: { ...get().user, ...s.user }, restoreError: null });
  };

  onSessionChange((s) => {
    if (s) set({ status: "signedIn", user: { ...get().user, ...s.user } });
    else set({ status: "signedOut", user: null });
  });

  return {
    status: "unknown",
    user: null,
    restoreError: null,

    async login(email, password) {
      signedIn(await api<Session>("POST", "/api/auth/login", { email, password }));
    },

    async register({ email, password, name }) {
      const body: Record<string, string> = { email, password };
      if (name && name.trim()) body.name = name.trim();
      signedIn(await api<Session>("POST", "/api/auth/register", body));
    },

    async logout() {
      const rt = getRefreshToken();
      setSession(null);
      set({ status: "signedOut", user: null });
      if (rt) {
        // The server revokes the sign-in; the answer does not change what the user sees.
        await api("POST", "/api/auth/logout", { refreshToken: rt }).catch(() => undefined);
      }
    },

    async restore() {
      if (get().status === "signedIn") return;
      if (!getRefreshToken()) {
        set({ status: "signedOut" });
        return;
      }
      const s = await refreshSession();
      if (s) set({ status: "signedIn", user: s.user, restoreError: null });
      else set({ status: "signedOut", user: null, restoreError: getRefreshError() });
    },

    async loadMe() {
      const me = await api<User>("GET", "/api/me");
      set({ user: { ...get().user, ...me } });
    },

    async updateProfile(patch) {
      const me = await api<User>("PATCH", "/api/me", patch);
      set({ user: { ...get().user, ...me } });
    },
  };
});

/** The name to greet the user with: their name, else the email's local part. */
export function displayName(u: User | null): string {
  if (!u) return "";
  const n = (u.name ?? "").trim();
  return n || u.email.split("@")[0];
}
