// Break it: the context menu sends the right inject/replicas bodies for a component and an
// edge, and only while a run is live; the scenario presets pick targets like the scenario
// files do (docs/scenarios.md).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { cleanup, fireEvent, render, screen } from "@testing-library/react";
import { ComponentContextMenu } from "./ContextMenu";
import { scenarioPresets } from "./ScenarioMenu";
import { useSim } from "../store/sim";
import { useDesign, type Design } from "../store/design";

const design: Design = {
  version: 1,
  name: "shop",
  components: [
    { id: "lb", type: "load_balancer" },
    { id: "api", type: "service", replicas: 3 },
    { id: "cache", type: "cache" },
    { id: "db", type: "database", replicas: 2 },
  ],
  edges: [
    { from: "lb", to: "api" },
    { from: "api", to: "cache", mode: "call" },
    { from: "api", to: "db", mode: "call" },
    { from: "api", to: "cache", mode: "async" },
  ],
  workload: [{ to: "lb", rps: 100 }],
};

let inject: ReturnType<typeof vi.fn>;
let replicas: ReturnType<typeof vi.fn>;

beforeEach(() => {
  useDesign.getState().load(design, "p1", 1);
  inject = vi.fn(async () => {});
  replicas = vi.fn(async () => {});
  useSim.setState({ state: "running", inject, setReplicas: replicas } as never);
});
afterEach(() => {
  cleanup();
  useSim.setState({ state: "idle" });
});

describe("ComponentContextMenu", () => {
  it("crashes a component for the chosen time and closes", () => {
    const onClose = vi.fn();
    render(<ComponentContextMenu kind="component" id="api" x={10} y={10} onClose={onClose} />);
    fireEvent.click(screen.getByText("until the end"));
    fireEvent.click(screen.getByTestId("ctx-crash"));
    expect(inject).toHaveBeenCalledWith({ kind: "crash", target: "api", duration: 0 });
    expect(onClose).toHaveBeenCalled();
  });

  it("slows by a factor or by milliseconds, adds errors, crashes one replica", () => {
    render(<ComponentContextMenu kind="component" id="api" x={0} y={0} onClose={() => {}} />);
    fireEvent.click(screen.getByTestId("ctx-slow-x5"));
    fireEvent.click(screen.getByTestId("ctx-slow-ms200"));
    fireEvent.click(screen.getByTestId("ctx-errors-10"));
    fireEvent.click(screen.getByTestId("ctx-crash-replica"));
    expect(inject.mock.calls.map((c) => c[0])).toEqual([
      { kind: "latency", value: 5, multiply: true, target: "api", duration: 30 },
      { kind: "latency", value: 200, multiply: false, target: "api", duration: 30 },
      { kind: "error_rate", value: 0.1, target: "api", duration: 30 },
      { kind: "crash", replica: 0, target: "api", duration: 30 },
    ]);
  });

  it("scales replicas from the design's count", () => {
    render(<ComponentContextMenu kind="component" id="api" x={0} y={0} onClose={() => {}} />);
    fireEvent.click(screen.getByTestId("ctx-scale-up"));
    expect(replicas).toHaveBeenCalledWith("api", 4);
    fireEvent.change(screen.getByTestId("ctx-replicas-input"), { target: { value: "7" } });
    fireEvent.click(screen.getByText("Set"));
    expect(replicas).toHaveBeenLastCalledWith("api", 7);
  });

  it("partitions an edge and drops packets on it, by edge index", () => {
    render(<ComponentContextMenu kind="edge" id={2} x={0} y={0} onClose={() => {}} />);
    expect(screen.getByText("Break api → db")).toBeTruthy();
    fireEvent.click(screen.getByTestId("ctx-partition"));
    fireEvent.click(screen.getByTestId("ctx-loss-10"));
    expect(inject.mock.calls.map((c) => c[0])).toEqual([
      { kind: "partition", target: 2, duration: 30 },
      { kind: "packet_loss", value: 0.1, target: 2, duration: 30 },
    ]);
  });

  it("is disabled with a hint when no run is live", () => {
    useSim.setState({ state: "finished" });
    render(<ComponentContextMenu kind="component" id="db" x={0} y={0} onClose={() => {}} />);
    expect(screen.getByTestId("ctx-not-running")).toBeTruthy();
    const crash = screen.getByTestId("ctx-crash") as HTMLButtonElement;
    expect(crash.disabled).toBe(true);
    fireEvent.click(crash);
    expect(inject).not.toHaveBeenCalled();
  });

  it("closes on Escape", () => {
    const onClose = vi.fn();
    render(<ComponentContextMenu kind="component" id="db" x={0} y={0} onClose={onClose} />);
    fireEvent.keyDown(document, { key: "Escape" });
    expect(onClose).toHaveBeenCalled();
  });
});

describe("scenarioPresets", () => {
  const byId = (forS = 20) => Object.fromEntries(scenarioPresets(design, forS).map((p) => [p.id, p]));

  it("picks the first database, cache and call edge into a database", () => {
    const p = byId();
    expect(p.db_failover.fault).toEqual({ kind: "crash", target: "db", replica: 0, duration: 20 });
    expect(p.dependency_slowdown.fault).toMatchObject({ kind: "latency", target: "db", value: 50, multiply: false });
    expect(p.thread_pool_exhaustion.fault).toMatchObject({ target: "db", value: 200 });
    expect(p.cache_miss_storm.fault).toEqual({ kind: "hit_ratio", target: "cache", value: 0.1, duration: 20 });
    expect(p.packet_loss.fault).toEqual({ kind: "packet_loss", target: 2, value: 0.1, duration: 20 });
    const chaos = p.chaos_monkey.fault!;
    expect(["api", "db"]).toContain(chaos.target);
    expect(chaos.replica).toBeGreaterThanOrEqual(0);
  });

  it("says what is missing in a design without it", () => {
    const bare: Design = { version: 1, components: [{ id: "a", type: "service" }], edges: [] };
    const p = Object.fromEntries(scenarioPresets(bare, 0).map((x) => [x.id, x]));
    expect(p.db_failover.fault).toBeNull();
    expect(p.db_failover.why).toBe("no database in the design");
    expect(p.cache_miss_storm.why).toBe("no cache in the design");
    expect(p.packet_loss.fault).toBeNull();
    expect(p.chaos_monkey.why).toContain("several replicas");
  });
});
