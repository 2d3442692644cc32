import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { ComponentType } from "../api/types";
import { useDesign } from "../store/design";
import { useCatalog } from "./catalog";
import { PropertyPanel } from "./PropertyPanel";
import { useValidation } from "./validation";

const service: ComponentType = {
  name: "service", label: "Service", category: "compute", icon: "server", description: "An API service.",
  behavior: "service", defaults: { replicas: 2 }, schema: {},
  params: {
    workers: { type: "int", default: 8, min: 0, max: 100000, unit: "servers" },
    policy: { type: "enum", values: ["round_robin", "random"], default: "round_robin" },
  },
};

const S = () => useDesign.getState();

beforeEach(() => {
  useCatalog.getState().setTypes([service]);
  useValidation.getState().set([]);
  S().load({
    version: 1, name: "d",
    components: [{ id: "api", type: "service", x: 0, y: 0 }, { id: "db", type: "database", x: 200, y: 0 }],
    edges: [{ from: "api", to: "db", retries: 2, timeout_ms: 50 }],
    workload: [{ to: "api", rps: 10 }],
  }, "p", 1);
});
afterEach(cleanup);

describe("property panel", () => {
  it("shows the design's fields when nothing is selected", () => {
    render(<PropertyPanel />);
    expect((screen.getByTestId("property-design-name") as HTMLInputElement).value).toBe("d");
    expect((screen.getByTestId("workload-rps") as HTMLInputElement).value).toBe("10");
    fireEvent.change(screen.getByTestId("property-slo.p99_ms"), { target: { value: "200" } });
    expect(S().doc.slo).toEqual({ p99_ms: 200 });
  });

  it("edits a component's parameters and replicas from its type's schema", () => {
    act(() => S().select({ components: ["api"] }));
    render(<PropertyPanel />);
    expect((screen.getByTestId("property-replicas") as HTMLInputElement).placeholder).toBe("2");
    fireEvent.change(screen.getByTestId("property-workers"), { target: { value: "16" } });
    expect(S().doc.components[0].params).toEqual({ workers: 16 });
    fireEvent.change(screen.getByTestId("property-workers"), { target: { value: "" } });
    expect(S().doc.components[0].params).toBeUndefined(); // empty params object removed
    fireEvent.change(screen.getByTestId("property-policy"), { target: { value: "random" } });
    expect(S().doc.components[0].params).toEqual({ policy: "random" });
  });

  it("renames a component on Enter and rewrites the references", () => {
    act(() => S().select({ components: ["api"] }));
    render(<PropertyPanel />);
    const id = screen.getByTestId("property-id");
    fireEvent.change(id, { target: { value: "backend" } });
    fireEvent.keyDown(id, { key: "Enter" });
    expect(S().doc.edges[0].from).toBe("backend");
    expect(S().doc.workload![0].to).toBe("backend");
  });

  it("switching an edge to async drops its call-only fields", () => {
    act(() => S().select({ edges: [0] }));
    render(<PropertyPanel />);
    expect(screen.getByTestId("property-retries")).toBeTruthy();
    fireEvent.change(screen.getByTestId("property-mode"), { target: { value: "async" } });
    expect(S().doc.edges[0]).toEqual({ from: "api", to: "db", mode: "async" });
    expect(screen.queryByTestId("property-retries")).toBeNull();
  });

  it("shows a server problem beside its field", () => {
    useValidation.getState().set([{ path: "$.components[0].params.workers", reason: "-1 is out of range" }]);
    act(() => S().select({ components: ["api"] }));
    render(<PropertyPanel />);
    expect(screen.getByTestId("property-workers").closest(".pf-field")!.textContent).toContain("-1 is out of range");
  });
});
