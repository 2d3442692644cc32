import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { getAccessToken, getRefreshToken, setSession } from "../api/client";
import { mockFetch, session } from "../api/fetchMock";
import { useAuth } from "../store/auth";
import { LoginScreen } from "./LoginScreen";

beforeEach(() => {
  localStorage.clear();
  setSession(null);
  useAuth.setState({ status: "signedOut", user: null });
  window.location.hash = "#/login";
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function fill(testId: string, value: string) {
  fireEvent.change(screen.getByTestId(testId), { target: { value } });
}

describe("LoginScreen", () => {
  it("signs in: token kept, refresh token stored", async () => {
    const { calls } = mockFetch({ "POST /api/auth/login": { body: session("t1", "r1") } });
    render(<LoginScreen mode="login" />);
    fill("login-email", " ann@example.com ");
    fill("login-password", "secret-password");
    fireEvent.click(screen.getByTestId("login-submit"));
    await waitFor(() => expect(useAuth.getState().status).toBe("signedIn"));
    expect(calls[0].body).toEqual({ email: "ann@example.com", password: "secret-password" });
    expect(getAccessToken()).toBe("t1");
    expect(getRefreshToken()).toBe("r1");
  });

  it("shows the server's sentence for a wrong password", async () => {
    mockFetch({ "POST /api/auth/login": { status: 401, body: { error: "wrong email or password" } } });
    render(<LoginScreen mode="login" />);
    fill("login-email", "ann@example.com");
    fill("login-password", "nope-nope");
    fireEvent.click(screen.getByTestId("login-submit"));
    expect(await screen.findByTestId("login-error")).toHaveProperty(
      "textContent", "Wrong email or password");
    expect(useAuth.getState().status).toBe("signedOut");
  });

  it("shows the rate limit's sentence (429)", async () => {
    mockFetch({ "POST /api/auth/login": {
      status: 429, body: { error: "too many login attempts for this account: try again in 5 minutes" } } });
    render(<LoginScreen mode="login" />);
    fill("login-email", "ann@example.com");
    fill("login-password", "whatever1");
    fireEvent.click(screen.getByTestId("login-submit"));
    expect((await screen.findByTestId("login-error")).textContent).toMatch(/try again in 5 minutes/);
  });

  it("refuses a short password before asking the server", async () => {
    const { calls } = mockFetch({});
    render(<LoginScreen mode="register" />);
    fill("login-email", "ann@example.com");
    fill("login-password", "short");
    fireEvent.click(screen.getByTestId("login-submit"));
    expect(await screen.findByText("Use at least 8 characters")).toBeTruthy();
    expect(calls).toHaveLength(0);
  });

  it("puts a 422's problems under their fields, and a 409 above the form", async () => {
    mockFetch({ "POST /api/auth/register": [
      { status: 422, body: { error: "the request is not valid",
                             errors: [{ path: "$.email", reason: "is not an email address" }] } },
      { status: 409, body: { error: "an account with this email already exists" } },
    ] });
    render(<LoginScreen mode="register" />);
    fill("login-name", "Ann Lee");
    fill("login-email", "ann@bad");
    fill("login-password", "long enough pw");
    fireEvent.click(screen.getByTestId("login-submit"));
    expect(await screen.findByText("Email is not an email address")).toBeTruthy();
    fill("login-email", "ann@example.com");
    fireEvent.click(screen.getByTestId("login-submit"));
    expect((await screen.findByTestId("login-error")).textContent)
      .toBe("An account with this email already exists");
  });

  it("registers with the name", async () => {
    const { calls } = mockFetch({ "POST /api/auth/register": { status: 201, body: session("t", "r") } });
    render(<LoginScreen mode="register" />);
    fill("login-name", " Ann Lee ");
    fill("login-email", "ann@example.com");
    fill("login-password", "long enough pw");
    fireEvent.click(screen.getByTestId("login-submit"));
    await waitFor(() => expect(useAuth.getState().status).toBe("signedIn"));
    expect(calls[0].body).toEqual({ email: "ann@example.com", password: "long enough pw",
                                    name: "Ann Lee" });
  });
});
