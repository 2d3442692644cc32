import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getAccessToken, getRefreshToken, setSession } from "../api/client";
import { mockFetch, session } from "../api/fetchMock";
import { displayName, useAuth } from "./auth";

beforeEach(() => {
  localStorage.clear();
  setSession(null);
  useAuth.setState({ status: "unknown", user: null });
});
afterEach(() => vi.unstubAllGlobals());

describe("auth store", () => {
  it("restore() with no stored refresh token is signed out without a request", async () => {
    const { calls } = mockFetch({});
    await useAuth.getState().restore();
    expect(useAuth.getState().status).toBe("signedOut");
    expect(calls).toHaveLength(0);
  });

  it("restore() signs in again from the stored refresh token (a reload)", async () => {
    localStorage.setItem("sdsim.refreshToken", "stored");
    const { calls } = mockFetch({ "POST /api/auth/refresh": { body: session("t2", "r2") } });
    await useAuth.getState().restore();
    expect(calls[0].body).toEqual({ refreshToken: "stored" });
    expect(useAuth.getState().status).toBe("signedIn");
    expect(useAuth.getState().user?.name).toBe("Ann Lee");
    expect(getAccessToken()).toBe("t2");
    expect(getRefreshToken()).toBe("r2");
  });

  it("restore() with a refused token is signed out and forgets it", async () => {
    localStorage.setItem("sdsim.refreshToken", "spent");
    mockFetch({ "POST /api/auth/refresh": { status: 401, body: { error: "invalid refresh token" } } });
    await useAuth.getState().restore();
    expect(useAuth.getState().status).toBe("signedOut");
    expect(getRefreshToken()).toBeNull();
  });

  it("logout() revokes on the server and forgets both tokens", async () => {
    setSession(session("t", "r"));
    useAuth.setState({ status: "signedIn" });
    const { calls } = mockFetch({ "POST /api/auth/logout": { status: 204 } });
    await useAuth.getState().logout();
    expect(calls[0].body).toEqual({ refreshToken: "r" });
    expect(useAuth.getState().status).toBe("signedOut");
    expect(getAccessToken()).toBeNull();
    expect(getRefreshToken()).toBeNull();
  });

  it("a refresh the client does by itself updates the user", async () => {
    setSession(session("old", "r1"));
    useAuth.setState({ status: "signedIn", user: session("", "").user });
    mockFetch({
      "GET /api/me": (c) => (c.auth === "Bearer new" ? { body: { id: "u1" } } : { status: 401 }),
      "POST /api/auth/refresh": { body: session("new", "r2", "Ann B") },
    });
    await useAuth.getState().loadMe();
    expect(useAuth.getState().user?.name).toBe("Ann B");
  });

  it("displayName falls back to the email's local part", () => {
    expect(displayName({ ...session("", "").user, name: "" })).toBe("ann");
    expect(displayName(null)).toBe("");
  });
});

describe("restore() when the server cannot answer", () => {
  it("keeps the stored token and says why", async () => {
    localStorage.setItem("sdsim.refreshToken", "kept");
    mockFetch({ "POST /api/auth/refresh": { status: 503, body: { error: "the database is unavailable: try again" } } });
    await useAuth.getState().restore();
    expect(useAuth.getState().status).toBe("signedOut");
    expect(useAuth.getState().restoreError).toBe("the database is unavailable: try again");
    expect(getRefreshToken()).toBe("kept");
  });
});
