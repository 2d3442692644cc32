import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, getAccessToken, getRefreshToken, onSessionChange, refreshSession,
         setSession } from "./client";
import { mockFetch, session } from "./fetchMock";

beforeEach(() => {
  localStorage.clear();
  setSession(session("old-token", "rt-1"));
});
afterEach(() => {
  vi.unstubAllGlobals();
  setSession(null);
});

/** The ApiError a call is rejected with. */
function failure(p: Promise<unknown>): Promise<ApiError> {
  return p.then(() => { throw new Error("expected a rejection"); }, (e: ApiError) => e);
}

describe("api()", () => {
  it("sends the bearer token and JSON body, returns the decoded answer", async () => {
    const { calls } = mockFetch({ "POST /api/projects": { status: 201, body: { id: "p1" } } });
    const p = await api<{ id: string }>("POST", "/api/projects", { name: "x" });
    expect(p.id).toBe("p1");
    expect(calls[0].auth).toBe("Bearer old-token");
    expect(calls[0].body).toEqual({ name: "x" });
  });

  it("refreshes once on 401 and retries with the new token", async () => {
    const { calls } = mockFetch({
      "GET /api/me": (c) =>
        c.auth === "Bearer new-token"
          ? { body: { id: "u1" } }
          : { status: 401, body: { error: "invalid token: expired" } },
      "POST /api/auth/refresh": { body: session("new-token", "rt-2") },
    });
    const me = await api<{ id: string }>("GET", "/api/me");
    expect(me.id).toBe("u1");
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual([
      "GET /api/me", "POST /api/auth/refresh", "GET /api/me",
    ]);
    expect(calls[1].body).toEqual({ refreshToken: "rt-1" });
    expect(getAccessToken()).toBe("new-token");
    expect(getRefreshToken()).toBe("rt-2");
  });

  it("shares one refresh between concurrent 401s (a refresh token is single use)", async () => {
    const { calls } = mockFetch({
      "GET /api/projects": (c) =>
        c.auth === "Bearer new-token" ? { body: { projects: [] } } : { status: 401, body: {} },
      "POST /api/auth/refresh": { body: session("new-token", "rt-2") },
    });
    await Promise.all([api("GET", "/api/projects"), api("GET", "/api/projects"),
                       api("GET", "/api/projects")]);
    expect(calls.filter((c) => c.path === "/api/auth/refresh")).toHaveLength(1);
  });

  it("retries only once: a second 401 is thrown", async () => {
    const { calls } = mockFetch({
      "GET /api/me": { status: 401, body: { error: "invalid token: bad signature" } },
      "POST /api/auth/refresh": { body: session("new-token", "rt-2") },
    });
    await expect(api("GET", "/api/me")).rejects.toMatchObject({
      status: 401, message: "invalid token: bad signature",
    });
    expect(calls).toHaveLength(3);
  });

  it("a refused refresh signs out: tokens forgotten, the 401 thrown", async () => {
    mockFetch({
      "GET /api/me": { status: 401, body: { error: "invalid token: expired" } },
      "POST /api/auth/refresh": { status: 401, body: { error: "refresh token expired: sign in again" } },
    });
    await expect(api("GET", "/api/me")).rejects.toBeInstanceOf(ApiError);
    expect(getAccessToken()).toBeNull();
    expect(getRefreshToken()).toBeNull();
  });

  it("does not refresh for the auth routes themselves (a wrong password is a 401)", async () => {
    const { calls } = mockFetch({
      "POST /api/auth/login": { status: 401, body: { error: "wrong email or password" } },
    });
    const err = await failure(api("POST", "/api/auth/login", { email: "a", password: "b" }));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.message).toBe("wrong email or password");
    expect(calls).toHaveLength(1);
  });

  it("maps a 422 with its problems", async () => {
    mockFetch({
      "POST /api/projects": {
        status: 422,
        body: { error: "the project is not valid",
                errors: [{ path: "$.design.components[0].type", reason: "unknown type" }] },
      },
    });
    const err: ApiError = await failure(api("POST", "/api/projects", {}));
    expect(err.status).toBe(422);
    expect(err.message).toBe("the project is not valid");
    expect(err.errors).toEqual([{ path: "$.design.components[0].type", reason: "unknown type" }]);
  });

  it("keeps the extra fields of an error body (403 limit, 409 currentVersion)", async () => {
    mockFetch({
      "POST /api/projects": { status: 403, body: { error: "project limit reached", limit: 5, used: 5 } },
    });
    const err: ApiError = await failure(api("POST", "/api/projects", {}));
    expect(err.status).toBe(403);
    expect(err.body).toMatchObject({ limit: 5, used: 5 });
  });

  it("gives a sentence for a 429 or a body that is not JSON", async () => {
    mockFetch({ "GET /api/x": { status: 429 } });
    const err: ApiError = await failure(api("GET", "/api/x"));
    expect(err.status).toBe(429);
    expect(err.message).toMatch(/too many/);
  });

  it("resolves undefined for 204", async () => {
    mockFetch({ "DELETE /api/projects/p1": { status: 204 } });
    await expect(api("DELETE", "/api/projects/p1")).resolves.toBeUndefined();
  });

  it("turns a network failure into ApiError status 0", async () => {
    vi.stubGlobal("fetch", vi.fn(async () => { throw new TypeError("Failed to fetch"); }));
    const err: ApiError = await failure(api("GET", "/api/me"));
    expect(err).toBeInstanceOf(ApiError);
    expect(err.status).toBe(0);
    expect(err.message).toMatch(/cannot be reached/);
  });
});

describe("renewal", () => {
  it("renews the access token a minute before it expires", async () => {
    vi.useFakeTimers();
    try {
      const { calls } = mockFetch({ "POST /api/auth/refresh": { body: session("renewed", "rt-2") } });
      setSession(session("t0", "rt-1")); // expiresIn 900 s
      await vi.advanceTimersByTimeAsync(839_000);
      expect(calls).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(2_000);
      expect(calls.map((c) => c.path)).toEqual(["/api/auth/refresh"]);
      expect(getAccessToken()).toBe("renewed");
      setSession(null); // signing out cancels the next renewal
      await vi.advanceTimersByTimeAsync(900_000);
      expect(calls).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("tabs", () => {
  it("signing out in another tab (the stored token removed) signs this one out", () => {
    let told: unknown = "untouched";
    onSessionChange((s) => { told = s; });
    try {
      expect(getAccessToken()).toBe("old-token");
      localStorage.removeItem("sdsim.refreshToken");
      window.dispatchEvent(new StorageEvent("storage", { key: "sdsim.refreshToken", newValue: null }));
      expect(getAccessToken()).toBeNull();
      expect(told).toBeNull();
    } finally {
      onSessionChange(null);
    }
  });

  it("a refresh reads the stored token when it runs (another tab may have rotated it)", async () => {
    const { calls } = mockFetch({ "POST /api/auth/refresh": { body: session("t", "rt-9") } });
    localStorage.setItem("sdsim.refreshToken", "rotated-by-other-tab");
    await refreshSession();
    expect(calls[0].body).toEqual({ refreshToken: "rotated-by-other-tab" });
  });
});
