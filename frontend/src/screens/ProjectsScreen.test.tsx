import { act, cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setSession } from "../api/client";
import { mockFetch, session } from "../api/fetchMock";
import type { Project } from "../api/types";
import { useAuth } from "../store/auth";
import { useProjects } from "../store/projects";
import { Toaster, useToasts } from "../ui/toast";
import { ProjectsScreen } from "./ProjectsScreen";

const NOW = Date.now();
function project(id: string, name: string, extra: Partial<Project> = {}): Project {
  return { id, name, version: 1, isPublic: false, createdAt: NOW, updatedAt: NOW - 5 * 60_000,
           ...extra };
}
const design = (n: number) => ({
  version: 1,
  components: Array.from({ length: n }, (_, i) => ({ id: `c${i}`, type: "service", x: i * 100, y: 0 })),
  edges: n > 1 ? [{ from: "c0", to: "c1" }] : [],
});
const me = { body: { ...session("", "").user, limits: { maxProjects: 5, projectsUsed: 2 } } };

beforeEach(() => {
  localStorage.clear();
  setSession(session("t", "r"));
  useAuth.setState({ status: "signedIn", user: session("", "").user });
  useProjects.setState({ projects: [], total: 0, counts: {}, error: null, loading: false });
  useToasts.setState({ items: [] });
  window.location.hash = "#/projects";
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function renderScreen() {
  return render(<><ProjectsScreen /><Toaster /></>);
}

describe("ProjectsScreen", () => {
  it("lists cards with name, update time and component count", async () => {
    mockFetch({
      "GET /api/projects": { body: { projects: [project("p1", "Checkout"), project("p2", "Feed")],
                                     total: 2, limit: 100, offset: 0 } },
      "GET /api/projects/p1": { body: { ...project("p1", "Checkout"), design: design(3) } },
      "GET /api/projects/p2": { body: { ...project("p2", "Feed"), design: design(1) } },
      "GET /api/me": me,
    });
    renderScreen();
    const cards = await screen.findAllByTestId("project-card");
    expect(cards.map((c) => within(c).getByTestId("project-name").textContent))
      .toEqual(["Checkout", "Feed"]);
    expect(within(cards[0]).getByTestId("project-updated").textContent).toBe("Edited 5 minutes ago");
    await waitFor(() =>
      expect(within(cards[0]).getByTestId("project-components").textContent).toBe("3 components"));
    expect(within(cards[1]).getByTestId("project-components").textContent).toBe("1 component");
    await waitFor(() =>
      expect(screen.getByTestId("projects-count").textContent).toMatch(/2 of 5 projects/));
  });

  it("renders a hostile project name as text, never as HTML", async () => {
    const evil = `<img src=x onerror="window.__pwned=1">`;
    mockFetch({
      "GET /api/projects": { body: { projects: [project("p1", evil)], total: 1 } },
      "GET /api/projects/p1": { body: { ...project("p1", evil), design: design(1) } },
      "GET /api/me": me,
    });
    const { container } = renderScreen();
    const name = await screen.findByTestId("project-name");
    expect(name.textContent).toBe(evil);
    expect(container.querySelector("img")).toBeNull();
    // and in the delete dialog, which quotes the name
    fireEvent.click(screen.getByTestId("project-delete"));
    expect(within(screen.getByTestId("confirm-dialog")).getByText(evil)).toBeTruthy();
    expect(document.querySelector("img")).toBeNull();
    expect((window as unknown as { __pwned?: number }).__pwned).toBeUndefined();
  });

  it("shows the empty state", async () => {
    mockFetch({ "GET /api/projects": { body: { projects: [], total: 0 } }, "GET /api/me": me });
    renderScreen();
    expect(await screen.findByTestId("projects-empty")).toBeTruthy();
  });

  it("shows the error state with a retry", async () => {
    mockFetch({
      "GET /api/projects": [
        { status: 503, body: { error: "the database is unavailable: try again" } },
        { body: { projects: [project("p1", "Back")], total: 1 } },
      ],
      "GET /api/me": me,
    });
    renderScreen();
    const err = await screen.findByTestId("projects-error");
    expect(err.textContent).toMatch(/the database is unavailable/i);
    fireEvent.click(within(err).getByText("Try again"));
    expect(await screen.findByText("Back")).toBeTruthy();
  });

  it("creates a project with a starter design and opens it", async () => {
    const { calls } = mockFetch({
      "GET /api/projects": { body: { projects: [], total: 0 } },
      "POST /api/projects": { status: 201, body: project("new1", "My system") },
      "GET /api/me": me,
    });
    renderScreen();
    await screen.findByTestId("projects-empty");
    fireEvent.click(screen.getByTestId("project-new"));
    fireEvent.change(screen.getByTestId("prompt-input"), { target: { value: "My system" } });
    fireEvent.submit(screen.getByTestId("prompt-input").closest("form")!);
    await waitFor(() => expect(window.location.hash).toBe("#/p/new1"));
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.body).toMatchObject({ name: "My system", design: { version: 1 } });
    expect((post.body as { design: { components: unknown[] } }).design.components).toHaveLength(1);
  });

  it("renames through the dialog (Enter submits), retrying once on a version conflict", async () => {
    const { calls } = mockFetch({
      "GET /api/projects": { body: { projects: [project("p1", "Old")], total: 1 } },
      "GET /api/projects/p1": { body: { ...project("p1", "Old"), design: design(1) } },
      "PUT /api/projects/p1": [
        { status: 409, body: { error: "saved meanwhile", currentVersion: 4 } },
        { body: { ...project("p1", "New name"), version: 5 } },
      ],
      "GET /api/me": me,
    });
    renderScreen();
    await screen.findByText("Old");
    fireEvent.click(screen.getByTestId("project-rename"));
    const input = screen.getByTestId("prompt-input") as HTMLInputElement;
    expect(input.value).toBe("Old");
    expect(document.activeElement).toBe(input);
    fireEvent.change(input, { target: { value: "New name" } });
    fireEvent.submit(input.closest("form")!);
    expect(await screen.findByText("New name")).toBeTruthy();
    const puts = calls.filter((c) => c.method === "PUT");
    expect(puts.map((c) => c.body)).toEqual([{ version: 1, name: "New name" },
                                             { version: 4, name: "New name" }]);
    expect(screen.queryByTestId("prompt-dialog")).toBeNull();
  });

  it("Escape closes a dialog without a request", async () => {
    const { calls } = mockFetch({
      "GET /api/projects": { body: { projects: [project("p1", "Keep")], total: 1 } },
      "GET /api/me": me,
    });
    renderScreen();
    await screen.findByText("Keep");
    fireEvent.click(screen.getByTestId("project-delete"));
    fireEvent.keyDown(screen.getByTestId("confirm-dialog"), { key: "Escape" });
    expect(screen.queryByTestId("confirm-dialog")).toBeNull();
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
  });

  it("deletes after confirmation", async () => {
    mockFetch({
      "GET /api/projects": { body: { projects: [project("p1", "Gone"), project("p2", "Stays")], total: 2 } },
      "DELETE /api/projects/p1": { status: 204 },
      "GET /api/me": me,
    });
    renderScreen();
    const cards = await screen.findAllByTestId("project-card");
    fireEvent.click(within(cards[0]).getByTestId("project-delete"));
    fireEvent.click(screen.getByTestId("confirm-ok"));
    await waitFor(() => expect(screen.queryByText("Gone")).toBeNull());
    expect(screen.getByText("Stays")).toBeTruthy();
  });

  it("duplicates (fork), and shows the limit error in a toast", async () => {
    const { calls } = mockFetch({
      "GET /api/projects": { body: { projects: [project("p1", "Base")], total: 1 } },
      "POST /api/projects/p1/fork": [
        { status: 201, body: project("p2", "Base (copy)") },
        { status: 403, body: { error: "project limit reached: the free plan allows 5 projects; delete one or upgrade", limit: 5, used: 5 } },
      ],
      "GET /api/me": me,
    });
    renderScreen();
    await screen.findByText("Base");
    await act(async () => {
      fireEvent.click(screen.getByTestId("project-duplicate"));
    });
    expect(await screen.findByText("Base (copy)")).toBeTruthy();
    expect(calls.find((c) => c.path === "/api/projects/p1/fork")!.body).toEqual({ name: "Base (copy)" });
    const base = screen.getAllByTestId("project-card").find((c) => c.textContent?.includes("Base") && !c.textContent.includes("copy"))!;
    await act(async () => {
      fireEvent.click(within(base).getByTestId("project-duplicate"));
    });
    expect((await screen.findByTestId("toast-error")).textContent).toMatch(/project limit reached/i);
  });
});

describe("ProjectsScreen filter", () => {
  it("filters the cards by name, case-insensitively", async () => {
    mockFetch({
      "GET /api/projects": { body: { projects: [project("p1", "Checkout"), project("p2", "Feed"),
                                                project("p3", "checkout v2")], total: 3 } },
      "GET /api/me": me,
    });
    renderScreen();
    await screen.findByText("Feed");
    fireEvent.change(screen.getByTestId("project-filter"), { target: { value: "CHECK" } });
    expect(screen.getAllByTestId("project-name").map((n) => n.textContent))
      .toEqual(["Checkout", "checkout v2"]);
    fireEvent.change(screen.getByTestId("project-filter"), { target: { value: "zzz" } });
    expect(screen.getByTestId("projects-no-match")).toBeTruthy();
  });
});

describe("ProjectsScreen paging", () => {
  it("shows more when the server has more than a page", async () => {
    const { calls } = mockFetch({
      "GET /api/projects?limit=100&offset=0": { body: { projects: [project("p1", "First")], total: 2 } },
      "GET /api/projects?limit=100&offset=1": { body: { projects: [project("p2", "Second")], total: 2 } },
      "GET /api/me": me,
    });
    renderScreen();
    await screen.findByText("First");
    fireEvent.click(screen.getByTestId("project-more"));
    expect(await screen.findByText("Second")).toBeTruthy();
    expect(screen.queryByTestId("project-more")).toBeNull();
    expect(calls.some((c) => c.path === "/api/projects?limit=100&offset=1")).toBe(true);
  });
});
