// Export and import of the design: the JSON written, the shape check, and an import that the
// server validates (422 problems listed; success replaces the design as one undo step).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";

let validate: (body: unknown) => unknown = () => ({ ok: true });
vi.mock("../api/client", () => {
  class ApiError extends Error {
    constructor(public status: number, message: string, public errors?: unknown[]) {
      super(message);
    }
  }
  return {
    ApiError,
    api: vi.fn(async (_m: string, path: string, body: unknown) => {
      if (path === "/api/validate") return validate(body);
      return {};
    }),
    getAccessToken: () => null,
    refreshSession: async () => null,
  };
});

// The editor's canvas pulls in Konva's node build (needs the canvas package): not needed here.
vi.mock("../canvas/Canvas", () => ({ designBounds: () => null }));

import { ApiError } from "../api/client";
import { useDesign, type Design } from "../store/design";
import { buildPdf, checkDesignShape, designJson, ImportError, importJsonText, safeName } from "./export";
import report from "../run/fixtures/ecommerce-report.json";

const original: Design = {
  version: 1,
  name: "shop",
  components: [{ id: "api", type: "service", x: 100, y: 80 }],
  edges: [],
};
const incoming = {
  version: 1,
  name: "imported",
  components: [
    { id: "a", type: "service", x: 0, y: 0 },
    { id: "b", type: "database", x: 200, y: 0 },
  ],
  edges: [{ from: "a", to: "b" }],
  workload: [{ to: "a", rps: 50 }],
  slo: { p99_ms: 100 },
};

beforeEach(() => {
  useDesign.getState().load(original, "p1", 3);
  validate = () => ({ ok: true });
});
afterEach(() => vi.clearAllMocks());

describe("export", () => {
  it("writes the design as pretty JSON that parses back to the same document", () => {
    const text = designJson(useDesign.getState().toJSON());
    expect(text.endsWith("\n")).toBe(true);
    expect(JSON.parse(text)).toEqual(useDesign.getState().toJSON());
  });

  it("makes file names safe", () => {
    expect(safeName("My shop / v2")).toBe("My-shop-v2");
    expect(safeName("")).toBe("design");
    expect(safeName(undefined)).toBe("design");
  });

  it("builds a PDF with the report summary and table", () => {
    const pdf = buildPdf(useDesign.getState().toJSON(), report, null);
    expect(pdf.getNumberOfPages()).toBeGreaterThanOrEqual(1);
    const out = pdf.output();
    expect(out.startsWith("%PDF-")).toBe(true);
    expect(out).toContain("Simulation report");
    expect(out).toContain("api *"); // the bottleneck row is starred
    expect(out).toContain("cache");
  });
});

describe("import", () => {
  it("checks the shape before asking the server", () => {
    expect(checkDesignShape([])).toEqual(["the file is not a JSON object"]);
    expect(checkDesignShape({ version: 2, components: [] })).toEqual([
      "$.version: must be 1",
      "$.components: must be a non-empty array",
    ]);
    expect(checkDesignShape({ version: 1, components: [{ id: "a" }], edges: {} })).toEqual([
      "$.components[0].type: missing",
      "$.edges: must be an array",
    ]);
    expect(checkDesignShape(incoming)).toEqual([]);
  });

  it("refuses text that is not JSON, and lists the server's problems", async () => {
    await expect(importJsonText("{nope")).rejects.toBeInstanceOf(ImportError);
    validate = () => {
      throw new ApiError(422, "invalid design", [{ path: "$.edges[0].to", reason: "no component 'x'" }] as never);
    };
    const err = await importJsonText(JSON.stringify(incoming)).catch((e) => e);
    expect(err).toBeInstanceOf(ImportError);
    expect(err.problems).toEqual(["$.edges[0].to: no component 'x'"]);
    expect(useDesign.getState().doc.name).toBe("shop"); // unchanged
  });

  it("replaces the design as one undoable change, keeping the project", async () => {
    const doc = await importJsonText(JSON.stringify(incoming));
    expect(doc.name).toBe("imported");
    expect(useDesign.getState().toJSON()).toMatchObject(incoming);
    expect(useDesign.getState().projectId).toBe("p1");
    useDesign.getState().undo();
    expect(useDesign.getState().doc.name).toBe("shop");
    expect(useDesign.getState().doc.components.map((c) => c.id)).toEqual(["api"]);
  });
});
