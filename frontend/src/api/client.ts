// The REST client every screen uses: JSON in and out, the bearer token added, one refresh and
// retry when the access token has expired (401), and every non-2xx answer thrown as ApiError
// with the server's sentence, so screens can show it as it is.
import type { Session, ValidationProblem } from "./types";

export class ApiError extends Error {
  status: number;
  errors?: ValidationProblem[];
  /** The whole decoded error body (e.g. {limit, used} or {currentVersion}). */
  body?: Record<string, unknown>;

  constructor(status: number, message: string, errors?: ValidationProblem[],
              body?: Record<string, unknown>) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.errors = errors;
    this.body = body;
  }
}

const REFRESH_KEY = "sdsim.refreshToken";

let accessToken: string | null = null;
let refreshing: Promise<Session | null> | null = null;
let onSession: ((s: Session | null) => void) | null = null;

/** The access token for the WebSocket (`/ws?token=`), or null when signed out. */
export function getAccessToken(): string | null {
  return accessToken;
}

export function getRefreshToken(): string | null {
  try {
    return localStorage.getItem(REFRESH_KEY);
  } catch {
    return null;
  }
}

let renewTimer: ReturnType<typeof setTimeout> | null = null;
const RENEW_EARLY_S = 60; // renew this long before the access token expires

/**
 * Remember a new sign-in (or forget it with null): token in memory, refresh token stored.
 * The access token is renewed a minute before it expires, so getAccessToken() stays usable
 * for a WebSocket (re)connect without waiting for a 401.
 */
export function setSession(s: Session | null): void {
  accessToken = s ? s.token : null;
  if (renewTimer) clearTimeout(renewTimer);
  renewTimer = null;
  if (s && s.expiresIn > RENEW_EARLY_S) {
    renewTimer = setTimeout(() => void refreshSession(), (s.expiresIn - RENEW_EARLY_S) * 1000);
  }
  try {
    if (s) localStorage.setItem(REFRESH_KEY, s.refreshToken);
    else localStorage.removeItem(REFRESH_KEY);
  } catch {
    // storage disabled: the sign-in lasts as long as the page
  }
}

/** Called after every refresh the client does by itself (the auth store keeps the user). */
export function onSessionChange(fn: ((s: Session | null) => void) | null): void {
  onSession = fn;
}

function messageFor(status: number, body: unknown, statusText: string): string {
  if (body && typeof body === "object" && typeof (body as { error?: unknown }).error === "string") {
    return (body as { error: string }).error;
  }
  if (status === 429) return "too many attempts: wait a moment and try again";
  if (status === 0) return "the server cannot be reached";
  return `${status} ${statusText || "request failed"}`.trim();
}

async function send(method: string, path: string, body: unknown, token: string | null) {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (token) headers.authorization = `Bearer ${token}`;
  try {
    return await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, `the server cannot be reached (${(e as Error).message})`);
  }
}

async function decode(res: Response): Promise<unknown> {
  if (res.status === 204) return undefined;
  const text = await res.text();
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function toError(res: Response, body: unknown): ApiError {
  const obj = body && typeof body === "object" ? (body as Record<string, unknown>) : undefined;
  const errors = Array.isArray(obj?.errors) ? (obj!.errors as ValidationProblem[]) : undefined;
  return new ApiError(res.status, messageFor(res.status, body, res.statusText), errors, obj);
}

/**
 * Spend the stored refresh token for a new pair. Concurrent callers share one request (a
 * refresh token is single use: two refreshes with it would revoke the whole sign-in).
 */
let lastRefreshError: string | null = null;

/**
 * Why the last refresh failed when the server could not answer it (network, 5xx): the stored
 * token is kept then, and the sign-in screen can say so. Null after a refusal or a success.
 */
export function getRefreshError(): string | null {
  return lastRefreshError;
}

export function refreshSession(): Promise<Session | null> {
  if (refreshing) return refreshing;
  if (!getRefreshToken()) return Promise.resolve(null);
  refreshing = (async () => {
    lastRefreshError = null;
    try {
      return await withRefreshLock(spendRefreshToken);
    } catch (e) {
      lastRefreshError = (e as Error).message;
      return null;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

// Tabs of one browser share the stored refresh token: a Web Lock makes their refreshes take
// turns, and each reads the token only once it holds the lock, so none spends a token another
// tab has already spent (which the server takes as theft and answers by revoking the sign-in).
function withRefreshLock<T>(fn: () => Promise<T>): Promise<T> {
  const locks = typeof navigator !== "undefined" ? navigator.locks : undefined;
  return locks ? (locks.request("sdsim-refresh", fn) as Promise<T>) : fn();
}

async function spendRefreshToken(): Promise<Session | null> {
  const rt = getRefreshToken();
  if (!rt) return null;
  const res = await send("POST", "/api/auth/refresh", { refreshToken: rt }, null);
  const body = await decode(res);
  if (!res.ok) {
    // Only a refusal ends the sign-in; a network or server failure keeps the token.
    if (res.status === 401) {
      setSession(null);
      onSession?.(null);
      return null;
    }
    throw toError(res, body);
  }
  const s = body as Session;
  setSession(s);
  onSession?.(s);
  return s;
}

// Signing out in another tab removes the stored token: this tab signs out too.
if (typeof window !== "undefined") {
  window.addEventListener("storage", (e) => {
    if (e.key === REFRESH_KEY && e.newValue === null && accessToken) {
      setSession(null);
      onSession?.(null);
    }
  });
}

/**
 * One API call: `api<Project>("GET", "/api/projects/1")`. Resolves with the decoded JSON
 * (undefined for 204); throws ApiError for any non-2xx answer or a network failure.
 */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const sentWith = accessToken;
  let res = await send(method, path, body, sentWith);
  const isAuthRoute = path.startsWith("/api/auth/");
  if (res.status === 401 && !isAuthRoute && getRefreshToken()) {
    // Another call may have refreshed meanwhile: then just retry with its token.
    const fresh = accessToken && accessToken !== sentWith ? accessToken
      : (await refreshSession())?.token;
    if (fresh) res = await send(method, path, body, fresh);
  }
  const decoded = await decode(res);
  if (!res.ok) throw toError(res, decoded);
  return decoded as T;
}
