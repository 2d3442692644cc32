import { cleanup, fireEvent, render, screen, waitFor, within } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { setSession } from "../api/client";
import { mockFetch, session } from "../api/fetchMock";
import { useAuth } from "../store/auth";
import { Toaster, useToasts } from "../ui/toast";
import { TemplatesScreen } from "./TemplatesScreen";

const T = [
  { id: "ecommerce", name: "E-commerce checkout", category: "web", description: "Shop", components: 6, usageCount: 3 },
  { id: "shortener", name: "URL shortener", category: "web", description: "Links", components: 4, usageCount: 0 },
  { id: "kafka", name: "Event pipeline", category: "data", description: "Streams", components: 5, usageCount: 1 },
];

beforeEach(() => {
  setSession(session("t", "r"));
  useAuth.setState({ status: "signedIn", user: session("", "").user });
  useToasts.setState({ items: [] });
  window.location.hash = "#/templates";
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

describe("TemplatesScreen", () => {
  it("groups by category, filters by tab and search (sent to the server)", async () => {
    const { calls } = mockFetch({
      "GET /api/templates": { body: { templates: T } },
      "GET /api/templates?category=data": { body: { templates: [T[2]] } },
      "GET /api/templates?category=data&q=pipe": { body: { templates: [T[2]] } },
    });
    render(<TemplatesScreen />);
    expect(await screen.findAllByTestId("template-card")).toHaveLength(3);
    expect(screen.getAllByText("Data")).toHaveLength(2); // the tab and the section title
    fireEvent.click(screen.getByTestId("template-category-data"));
    await waitFor(() => expect(screen.getAllByTestId("template-card")).toHaveLength(1));
    fireEvent.change(screen.getByTestId("template-search"), { target: { value: "pipe" } });
    await waitFor(() =>
      expect(calls.map((c) => c.path)).toContain("/api/templates?category=data&q=pipe"));
    // the tabs stay (they come from the unfiltered list)
    expect(screen.getByTestId("template-category-web")).toBeTruthy();
  });

  it("a 404 (no gallery on this server) is an explained empty state", async () => {
    mockFetch({});
    render(<TemplatesScreen />);
    expect(await screen.findByTestId("templates-missing")).toBeTruthy();
  });

  it("'Use template' creates the project in one request and opens it", async () => {
    const { calls } = mockFetch({
      "GET /api/templates": { body: { templates: T } },
      "POST /api/templates/shortener/projects": { status: 201, body: { id: "np", name: "URL shortener" } },
      "GET /api/me": { body: session("", "").user },
    });
    render(<TemplatesScreen />);
    const cards = await screen.findAllByTestId("template-card");
    const card = cards.find((c) => c.getAttribute("data-template-id") === "shortener")!;
    fireEvent.click(within(card).getByTestId("template-use"));
    await waitFor(() => expect(window.location.hash).toBe("#/p/np"));
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(1);
  });

  it("a refused creation (limit) is a toast, the gallery stays usable", async () => {
    mockFetch({
      "GET /api/templates": { body: { templates: T } },
      "POST /api/templates/kafka/projects": { status: 403, body: { error: "project limit reached" } },
    });
    render(<><TemplatesScreen /><Toaster /></>);
    const cards = await screen.findAllByTestId("template-card");
    const card = cards.find((c) => c.getAttribute("data-template-id") === "kafka")!;
    fireEvent.click(within(card).getByTestId("template-use"));
    expect((await screen.findByTestId("toast-error")).textContent).toMatch(/project limit reached/i);
    await waitFor(() =>
      expect((within(card).getByTestId("template-use") as HTMLButtonElement).disabled).toBe(false));
  });
});
