// Workload editing in the run bar: edits land in the design's `workload` array (the server's
// field names), edits of one source in a burst are one undo step, and the summary line follows.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { WorkloadEditor, workloadSummary } from "./WorkloadEditor";
import { useDesign } from "../store/design";

beforeEach(() => {
  useDesign.getState().load(
    {
      version: 1,
      components: [
        { id: "clients", type: "client" },
        { id: "api", type: "service" },
      ],
      edges: [{ from: "clients", to: "api" }],
      workload: [{ to: "clients", rps: 100 }],
    },
    "p",
    1,
  );
});
afterEach(() => cleanup());

const wl = () => useDesign.getState().doc.workload as Array<Record<string, unknown>>;

describe("workloadSummary", () => {
  it("says rate or users, target and pattern", () => {
    expect(workloadSummary([{ to: "lb", rps: 900 }])).toBe("900 rps → lb");
    expect(workloadSummary([{ to: "lb", rps: 900, pattern: { type: "spike" } }, { to: "x", users: 5 }]))
      .toBe("900 rps → lb · spike +1");
    expect(workloadSummary([{ to: "app", users: 50 }])).toBe("50 users → app");
    expect(workloadSummary(undefined)).toBe("no workload");
  });
});

describe("WorkloadEditor", () => {
  it("changes the rate and the pattern with its required fields", () => {
    render(<WorkloadEditor />);
    fireEvent.change(screen.getByTestId("workload-rps-0"), { target: { value: "2500" } });
    expect(wl()[0].rps).toBe(2500);
    fireEvent.change(screen.getByTestId("workload-pattern-0"), { target: { value: "ramp" } });
    expect(wl()[0].pattern).toEqual({ type: "ramp", to_rps: 5000, over_s: 30, start_s: 0 });
    fireEvent.change(screen.getByTestId("workload-pattern-0"), { target: { value: "constant" } });
    expect(wl()[0].pattern).toBeUndefined();
    // Edits of one source within a second are one undo step (typing a number is many edits).
    useDesign.getState().undo();
    expect(wl()[0]).toEqual({ to: "clients", rps: 100 });
  });

  it("switches to a closed population and back, without fields of the other kind", () => {
    render(<WorkloadEditor />);
    fireEvent.change(screen.getByTestId("workload-kind-0"), { target: { value: "users" } });
    expect(wl()[0]).toEqual({ to: "clients", users: 100, think_ms: 1000 });
    fireEvent.change(screen.getByTestId("workload-kind-0"), { target: { value: "rps" } });
    expect(wl()[0]).toEqual({ to: "clients", rps: 100 });
  });

  it("adds a source at the client and removes one; refuses a rate of zero", () => {
    render(<WorkloadEditor />);
    fireEvent.click(screen.getByTestId("workload-add"));
    expect(wl()).toHaveLength(2);
    expect(wl()[1]).toEqual({ to: "clients", rps: 100 });
    fireEvent.change(screen.getByTestId("workload-rps-1"), { target: { value: "0" } });
    expect(wl()[1].rps).toBe(100);
    fireEvent.click(screen.getAllByTitle("Remove this source")[0]);
    expect(wl()).toHaveLength(1);
  });
});
