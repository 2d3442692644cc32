import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

const calls: Array<{ method: string; path: string; body: unknown }> = [];
let answer: (method: string, path: string, body: unknown) => unknown = () => ({});

vi.mock("../api/client", () => {
  class ApiError extends Error {
    status: number;
    errors?: unknown[];
    constructor(status: number, message: string, errors?: unknown[]) {
      super(message);
      this.status = status;
      this.errors = errors;
    }
  }
  return {
    ApiError,
    api: vi.fn(async (method: string, path: string, body: unknown) => {
      calls.push({ method, path, body });
      const r = answer(method, path, body);
      if (r instanceof Error) throw r;
      return r;
    }),
  };
});

import { ApiError } from "../api/client";
import { useDesign } from "../store/design";
import { clearDraft, readDraft, saveNow, startAutosave } from "./autosave";
import { handleEditorKey } from "./shortcuts";

const S = () => useDesign.getState();
const design = { version: 1, name: "d", components: [{ id: "a", type: "service", x: 0, y: 0 }], edges: [] };

beforeEach(() => {
  calls.length = 0;
  localStorage.clear();
  S().load(design, "p1", 4);
});
afterEach(() => vi.useRealTimers());

describe("autosave", () => {
  it("PUTs the design with the version it started from and takes the new version", async () => {
    answer = (_m, _p, body) => ({ version: (body as { version: number }).version + 1 });
    S().update((d) => void (d.name = "x"));
    expect(S().saveState).toBe("unsaved");
    await saveNow();
    expect(calls).toHaveLength(1);
    expect(calls[0].method).toBe("PUT");
    expect(calls[0].path).toBe("/api/projects/p1");
    expect(calls[0].body).toMatchObject({ version: 4, design: { name: "x" } });
    expect(S().version).toBe(5);
    expect(S().saveState).toBe("saved");
  });

  it("nothing to save: no request", async () => {
    await saveNow();
    expect(calls).toHaveLength(0);
  });

  it("a 409 is a conflict: no more saving until the user chooses", async () => {
    answer = () => new ApiError(409, "version conflict");
    S().update((d) => void (d.name = "x"));
    await saveNow();
    expect(S().saveState).toBe("conflict");
    S().update((d) => void (d.name = "y"));
    expect(S().saveState).toBe("conflict"); // edits do not clear it
    await saveNow();
    expect(calls).toHaveLength(1); // and do not save over theirs
  });

  it("a 422 says how many problems stand in the way", async () => {
    answer = () => new ApiError(422, "invalid", [{ path: "$.x", reason: "r" }, { path: "$.y", reason: "r" }]);
    S().update((d) => void (d.name = "x"));
    await saveNow();
    expect(S().saveState).toBe("error");
    expect(S().saveError).toMatch(/2 problems/);
  });

  it("saves a moment after the last edit and keeps a local draft until then", async () => {
    vi.useFakeTimers();
    answer = (_m, _p, body) => ({ version: (body as { version: number }).version + 1 });
    const stop = startAutosave(1000);
    S().update((d) => void (d.name = "a"));
    await vi.advanceTimersByTimeAsync(500);
    expect(readDraft("p1")?.design.name).toBe("a");
    S().update((d) => void (d.name = "ab"));
    await vi.advanceTimersByTimeAsync(700);
    expect(calls).toHaveLength(0); // still typing
    await vi.advanceTimersByTimeAsync(600);
    expect(calls).toHaveLength(1);
    expect((calls[0].body as { design: { name: string } }).design.name).toBe("ab");
    expect(S().saveState).toBe("saved");
    expect(readDraft("p1")).toBeNull();
    stop();
    clearDraft("p1");
  });
});

describe("shortcuts", () => {
  const key = (k: string, mods: Partial<KeyboardEvent> = {}) =>
    handleEditorKey(new KeyboardEvent("keydown", { key: k, ...mods }), () => {});

  it("delete, undo, redo, copy/paste, select all", () => {
    S().select({ components: ["a"] });
    expect(key("c", { ctrlKey: true })).toBe(true);
    key("v", { ctrlKey: true });
    expect(S().doc.components.map((c) => c.id)).toEqual(["a", "a_2"]);
    key("Delete");
    expect(S().doc.components.map((c) => c.id)).toEqual(["a"]);
    key("z", { ctrlKey: true });
    expect(S().doc.components.map((c) => c.id)).toEqual(["a", "a_2"]);
    key("z", { ctrlKey: true, shiftKey: true });
    expect(S().doc.components.map((c) => c.id)).toEqual(["a"]);
    key("a", { ctrlKey: true });
    expect(S().selection.components).toEqual(["a"]);
  });

  it("alt+arrow moves the selection one grid step; 2 makes selected edges forward", () => {
    S().load({ ...design, components: [...design.components, { id: "b", type: "database", x: 200, y: 0 }],
      edges: [{ from: "a", to: "b", retries: 2 }] }, "p1", 1);
    S().select({ components: ["a"] });
    key("ArrowRight", { altKey: true });
    expect(S().doc.components[0].x).toBe(20);
    S().select({ edges: [0] });
    key("2");
    expect(S().doc.edges[0]).toEqual({ from: "a", to: "b", mode: "forward" }); // call-only fields dropped
  });

  it("keys typed into a field stay there", () => {
    S().select({ components: ["a"] });
    const input = document.createElement("input");
    document.body.appendChild(input);
    const e = new KeyboardEvent("keydown", { key: "Delete", bubbles: true });
    Object.defineProperty(e, "target", { value: input });
    expect(handleEditorKey(e, () => {})).toBe(false);
    expect(S().doc.components).toHaveLength(1);
    input.remove();
  });
});
