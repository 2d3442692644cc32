import { cleanup, fireEvent, render, screen, waitFor } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setSession } from "./api/client";
import { mockFetch, session } from "./api/fetchMock";
import { useAuth } from "./store/auth";
import { useProjects } from "./store/projects";
import { App } from "./App";

vi.mock("./editor/EditorScreen", () => ({
  EditorScreen: ({ projectId }: { projectId: string }) => <div data-testid="editor-stub">{projectId}</div>,
}));

const list = { body: { projects: [], total: 0 } };

beforeEach(() => {
  localStorage.clear();
  setSession(null);
  useAuth.setState({ status: "unknown", user: null });
  useProjects.setState({ projects: [], total: 0, counts: {}, error: null });
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("App routes", () => {
  it("sends a visitor without a sign-in to #/login", async () => {
    mockFetch({});
    window.location.hash = "#/projects";
    render(<App />);
    expect(await screen.findByTestId("login-form")).toBeTruthy();
    await waitFor(() => expect(window.location.hash).toBe("#/login"));
  });

  it("a reload on a project signs in again (refresh token) and stays on the project", async () => {
    localStorage.setItem("sdsim.refreshToken", "stored");
    mockFetch({ "POST /api/auth/refresh": { body: session("t", "r2") } });
    window.location.hash = "#/p/abc-123";
    render(<App />);
    expect((await screen.findByTestId("editor-stub")).textContent).toBe("abc-123");
    expect(window.location.hash).toBe("#/p/abc-123");
  });

  it("after signing in, goes back to the page the visitor asked for", async () => {
    mockFetch({
      "POST /api/auth/login": { body: session("t", "r") },
      "GET /api/templates": { body: { templates: [] } },
    });
    window.location.hash = "#/templates";
    render(<App />);
    await screen.findByTestId("login-form");
    fireEvent.change(screen.getByTestId("login-email"), { target: { value: "ann@example.com" } });
    fireEvent.change(screen.getByTestId("login-password"), { target: { value: "password1" } });
    fireEvent.click(screen.getByTestId("login-submit"));
    await waitFor(() => expect(window.location.hash).toBe("#/templates"));
    expect(await screen.findByText("Start from a working design and change it.")).toBeTruthy();
  });

  it("signing out from the menu lands on sign-in; the next sign-in starts at the projects", async () => {
    localStorage.setItem("sdsim.refreshToken", "stored");
    mockFetch({
      "POST /api/auth/refresh": { body: session("t", "r2") },
      "POST /api/auth/logout": { status: 204 },
      "POST /api/auth/login": { body: session("t3", "r3") },
      "GET /api/templates": { body: { templates: [] } },
      "GET /api/projects": list,
      "GET /api/me": { body: session("", "").user },
    });
    window.location.hash = "#/templates";
    render(<App />);
    expect((await screen.findByTestId("user-name")).textContent).toBe("Ann Lee");
    fireEvent.click(screen.getByTestId("user-menu"));
    fireEvent.click(screen.getByTestId("sign-out"));
    await screen.findByTestId("login-form");
    expect(localStorage.getItem("sdsim.refreshToken")).toBeNull();
    fireEvent.change(screen.getByTestId("login-email"), { target: { value: "bob@example.com" } });
    fireEvent.change(screen.getByTestId("login-password"), { target: { value: "password1" } });
    fireEvent.click(screen.getByTestId("login-submit"));
    await waitFor(() => expect(window.location.hash).toBe("#/projects"));
  });
});
