import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { ParamSpec } from "../api/types";
import { checkNumber, jpath, setAt, SpecFields } from "./SchemaForm";

afterEach(cleanup);

const specs: Record<string, ParamSpec> = {
  workers: { type: "int", default: 8, min: 0, max: 100000, unit: "servers", help: "servers per replica" },
  hit_ratio: { type: "number", min: 0, max: 1, default: 0.8 },
  policy: { type: "enum", values: ["round_robin", "random"], default: "round_robin" },
  jitter: { type: "bool", default: false },
  note: { type: "string" },
  service_time: { type: "dist", default: { dist: "exp", mean_ms: 5 } },
  rate_limit: { type: "object", fields: { rps: { type: "number", min: 0, required: true } as ParamSpec, burst: { type: "number", min: 1 } } },
};

function setup(value: Record<string, unknown> | undefined, errors: Record<string, string[]> = {}) {
  const onChange = vi.fn();
  render(<SpecFields specs={specs} value={value} path={["params"]} base="$.components[1]" onChange={onChange} errors={errors} />);
  return onChange;
}

describe("schema form", () => {
  it("builds one control per parameter type", () => {
    setup(undefined);
    const w = screen.getByTestId("property-workers") as HTMLInputElement;
    expect(w.tagName).toBe("INPUT");
    expect(w.placeholder).toBe("8"); // the default shows as placeholder
    expect(screen.getByText("servers")).toBeTruthy(); // unit
    const pol = screen.getByTestId("property-policy") as HTMLSelectElement;
    expect([...pol.options].map((o) => o.value)).toEqual(["", "round_robin", "random"]);
    expect(pol.options[0].text).toBe("default (round_robin)");
    expect((screen.getByTestId("property-jitter") as HTMLSelectElement).options[0].text).toBe("default (false)");
    expect((screen.getByTestId("property-service_time") as HTMLSelectElement).options[0].text).toBe("default (exp 5 ms)");
    expect((screen.getByTestId("property-rate_limit") as HTMLInputElement).type).toBe("checkbox");
    expect(screen.getByTestId("property-note").tagName).toBe("INPUT");
    // help text is a tooltip on the label
    expect(screen.getByText("workers").closest("label")!.getAttribute("title")).toBe("servers per replica");
  });

  it("commits typed numbers at their path, empty = default", () => {
    const onChange = setup({ workers: 4 });
    const w = screen.getByTestId("property-workers") as HTMLInputElement;
    expect(w.value).toBe("4");
    fireEvent.change(w, { target: { value: "12" } });
    expect(onChange).toHaveBeenLastCalledWith(["params", "workers"], 12);
    fireEvent.change(w, { target: { value: "" } });
    expect(onChange).toHaveBeenLastCalledWith(["params", "workers"], undefined);
  });

  it("does not commit a fraction to an int field and says why", () => {
    const onChange = setup({});
    const w = screen.getByTestId("property-workers");
    fireEvent.change(w, { target: { value: "2.5" } });
    expect(onChange).not.toHaveBeenCalled();
    expect(screen.getByText("must be a whole number")).toBeTruthy();
  });

  it("enum, bool and dist selects write values", () => {
    const onChange = setup({});
    fireEvent.change(screen.getByTestId("property-policy"), { target: { value: "random" } });
    expect(onChange).toHaveBeenLastCalledWith(["params", "policy"], "random");
    fireEvent.change(screen.getByTestId("property-jitter"), { target: { value: "true" } });
    expect(onChange).toHaveBeenLastCalledWith(["params", "jitter"], true);
    fireEvent.change(screen.getByTestId("property-service_time"), { target: { value: "lognormal" } });
    expect(onChange).toHaveBeenLastCalledWith(["params", "service_time"], { dist: "lognormal", mean_ms: 5, scv: 1 });
  });

  it("an object parameter is switched on with its required fields filled", () => {
    const onChange = setup({});
    fireEvent.click(screen.getByTestId("property-rate_limit"));
    expect(onChange).toHaveBeenLastCalledWith(["params", "rate_limit"], { rps: 100 });
  });

  it("shows server problems next to the field their path names", () => {
    setup({ workers: -1, rate_limit: { rps: 0 } }, {
      "$.components[1].params.workers": ["must be at least 0"],
      "$.components[1].params.rate_limit.rps": ["must be greater than 0"],
    });
    const w = screen.getByTestId("property-workers");
    const field = w.closest(".pf-field")!;
    expect(field.textContent).toContain("must be at least 0");
    const rps = screen.getByTestId("property-rate_limit.rps").closest(".pf-field")!;
    expect(rps.textContent).toContain("must be greater than 0");
  });

  it("helpers", () => {
    expect(jpath("$.components[2]", ["params", "workers"])).toBe("$.components[2].params.workers");
    expect(jpath("$", ["workload", 0, "rps"])).toBe("$.workload[0].rps");
    expect(setAt({ a: 1, p: { x: 1 } }, ["p", "y"], 2)).toEqual({ a: 1, p: { x: 1, y: 2 } });
    expect(setAt({ a: 1, p: { x: 1 } }, ["p", "x"], undefined)).toEqual({ a: 1, p: {} });
    expect(checkNumber("5", { type: "number", min: 0, max: 1 })).toBe("must be ≤ 1");
    expect(checkNumber("0", { type: "number", min: 0, exclusive_min: true } as ParamSpec)).toBe("must be > 0");
    expect(checkNumber("abc", { type: "number" })).toBe("not a number");
    expect(checkNumber("", { type: "int" })).toBeNull();
  });
});
