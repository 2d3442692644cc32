// The sim store: start posts the design and config, frames fill the history and the overlay,
// controls go over REST when the socket is not open, the end fetches the report (retrying 409).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { create } from "@bufbuild/protobuf";
import {
  ComponentStatSchema,
  EdgeStatSchema,
  FrameSchema,
  SimState,
  TotalsSchema,
} from "../gen/sdsim_pb";

const calls: Array<{ method: string; path: string; body: unknown }> = [];
let handler: (method: string, path: string, body: unknown) => unknown = () => ({});

vi.mock("../api/client", () => {
  class ApiError extends Error {
    constructor(public status: number, message: string, public errors?: unknown[]) {
      super(message);
    }
  }
  return {
    ApiError,
    api: vi.fn(async (method: string, path: string, body: unknown) => {
      calls.push({ method, path, body });
      return handler(method, path, body);
    }),
    getAccessToken: () => "tok",
    refreshSession: async () => null,
  };
});

import { ApiError } from "../api/client";
import { simSocket } from "../api/ws";
import { getOverlay } from "../run/overlay";
import { getHistory, History, historyCapacity, Ring, useSim } from "./sim";

const START = {
  id: "sim-9",
  state: "running",
  duration: 60,
  speed: 1,
  simTime: 0,
  components: [
    { index: 0, id: "lb", type: "load_balancer" },
    { index: 1, id: "api", type: "service" },
    { index: 2, id: "db", type: "database" },
  ],
  edges: [
    { index: 0, from: "lb", to: "api", mode: "call" },
    { index: 1, from: "api", to: "db", mode: "call" },
  ],
};

function frame(simTime: number, dbErrors: bigint, state = SimState.RUNNING) {
  return create(FrameSchema, {
    simulationId: "sim-9",
    state,
    simTime,
    duration: 60,
    speed: 1,
    totals: create(TotalsSchema, { throughput: 100 + simTime, p99Ms: 20, bottleneck: 2 }),
    components: [0, 1, 2].map((i) =>
      create(ComponentStatSchema, {
        index: i,
        throughput: 100,
        arrivalRate: 100,
        utilization: i * 0.4,
        errors: i === 2 ? dbErrors : 0n,
        errorRate: i === 2 ? 5 : 0,
        down: i === 2 && dbErrors > 0n,
      }),
    ),
    edges: [create(EdgeStatSchema, { index: 1, rate: 30 })],
  });
}

beforeEach(() => {
  calls.length = 0;
  vi.spyOn(simSocket, "subscribe").mockImplementation(() => {});
  vi.spyOn(simSocket, "unsubscribe").mockImplementation(() => {});
  vi.spyOn(simSocket, "isOpen").mockReturnValue(false);
  handler = (_method, path) => {
    if (path === "/api/simulations/start") return START;
    if (path === "/api/analyze") return { bottleneck: "db", reason: "db saturates first at 50 rps", components: {} };
    if (path.endsWith("/stop")) return { id: "sim-9", state: "stopped", simTime: 4 };
    if (path.endsWith("/pause")) return { id: "sim-9", state: "paused", simTime: 3 };
    if (path.endsWith("/report")) return { design: "d", e2e: { throughput_rps: 99 } };
    return {};
  };
});
afterEach(() => {
  useSim.getState().reset();
  vi.restoreAllMocks();
});

describe("Ring", () => {
  it("keeps the newest capacity values in order", () => {
    const r = new Ring(3);
    [1, 2, 3, 4, 5].forEach((v) => r.push(v));
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.length).toBe(3);
  });
});

describe("historyCapacity", () => {
  it("keeps 2,400 points for small designs and bounds the memory of big ones", () => {
    expect(historyCapacity(6)).toBe(2400);
    expect(historyCapacity(200)).toBe(2400); // 4e6 / (8 * 200) = 2500, capped
    expect(historyCapacity(1000)).toBe(500); // 4e6 / 8000
    expect(historyCapacity(100000)).toBe(200); // the floor
  });
});

describe("History", () => {
  it("adds a point only when simulated time moved minDt on, never backwards", () => {
    const h = new History(100);
    h.clear(3);
    expect(h.add(frame(1, 0n), 0.5)).toBe(true);
    expect(h.add(frame(1.2, 0n), 0.5)).toBe(false);
    expect(h.add(frame(1.6, 0n), 0.5)).toBe(true);
    expect(h.totals.t.toArray()).toEqual([1, 1.6]);
    expect(h.totals.throughput.toArray()).toEqual([101, 101.6]);
    // Component series are 32-bit floats.
    expect(h.comps[2].utilization.toArray()).toEqual([0.8, 0.8].map(Math.fround));
    expect(h.add(frame(0.1, 0n), 0.5)).toBe(false); // from behind: ignored
    expect(h.totals.t.toArray()).toEqual([1, 1.6]);
    h.clear(3); // a new run
    expect(h.add(frame(0.1, 0n), 0.5)).toBe(true);
    expect(h.totals.t.toArray()).toEqual([0.1]);
  });
});

describe("useSim", () => {
  it("starts a run, ingests frames into history and overlay, controls over REST, fetches the report", async () => {
    const design = { version: 1, components: [{ id: "lb", type: "load_balancer" }] };
    await useSim.getState().start(design, { duration: 60, seed: 3, speed: 1 });
    const start = calls.find((c) => c.path === "/api/simulations/start")!;
    expect(start.body).toEqual({ design, config: { duration: 60, seed: 3, speed: 1 } });
    expect(calls.some((c) => c.path === "/api/analyze")).toBe(true);
    let s = useSim.getState();
    expect(s.id).toBe("sim-9");
    expect(s.state).toBe("running");
    expect(s.components.map((c) => c.id)).toEqual(["lb", "api", "db"]);
    expect(simSocket.subscribe).toHaveBeenCalledWith("sim-9");

    s.ingestFrame(frame(1, 0n));
    s.ingestFrame(frame(2, 7n));
    // A frame of another simulation is ignored.
    s.ingestFrame(create(FrameSchema, { simulationId: "other", simTime: 50 }));
    s = useSim.getState();
    expect(s.frame?.simTime).toBe(2);
    expect(s.framesSeen).toBe(2);
    expect(getHistory().totals.t.toArray()).toEqual([1, 2]);

    // The overlay is throttled; a state change (pause) forces a rebuild.
    await s.pause();
    expect(calls.some((c) => c.method === "POST" && c.path === "/api/simulations/sim-9/pause")).toBe(true);
    expect(useSim.getState().state).toBe("paused");
    const ov = getOverlay();
    expect(ov.active).toBe(true);
    expect(ov.running).toBe(false);
    expect(ov.byId.db.down).toBe(true);
    expect(ov.byId.db.bottleneck).toBe(true);
    expect(ov.byId.db.utilization).toBeCloseTo(0.8, 6);
    expect(ov.edges[0]).toMatchObject({ from: "api", to: "db", rate: 30 });
    expect(ov.bottleneck).toMatchObject({ id: "db", reason: "db saturates first at 50 rps" });

    await useSim.getState().stop();
    await vi.waitFor(() => expect(useSim.getState().report).not.toBeNull());
    expect(useSim.getState().state).toBe("stopped");
    expect(useSim.getState().report?.e2e).toEqual({ throughput_rps: 99 });
  });

  it("marks a component erroring when its error count grew since the last frame", async () => {
    await useSim.getState().start({}, { duration: 60, seed: 1, speed: 1 });
    const s = useSim.getState();
    s.ingestFrame(frame(1, 3n));
    await s.pause(); // forces an overlay rebuild from frame(1): first sight, no flash
    expect(getOverlay().byId.db.erroring).toBe(false);
    expect(getOverlay().byId.api.erroring).toBe(false);
    useSim.getState().ingestFrame(frame(2, 9n));
    useSim.getState().ingestFrame(frame(3, 9n)); // no growth in this frame, but within 1 s
    await useSim.getState().step(1);
    expect(getOverlay().byId.db.erroring).toBe(true);
    expect(getOverlay().byId.api.erroring).toBe(false);
  });

  it("shows why a start was refused and goes back to idle", async () => {
    handler = (_m, path) => {
      if (path === "/api/simulations/start") {
        throw new ApiError(422, "the design has problems", [
          { path: "$.edges[0].to", reason: "no component 'dbx'" },
        ] as never);
      }
      return {};
    };
    await useSim.getState().start({}, { duration: 60, seed: 1, speed: 1 });
    const s = useSim.getState();
    expect(s.state).toBe("idle");
    expect(s.toast?.kind).toBe("error");
    expect(s.toast?.text).toContain("the design has problems");
    expect(s.toast?.text).toContain("$.edges[0].to: no component 'dbx'");
  });

  it("asks for the report again while the server answers 409", async () => {
    await useSim.getState().start({}, { duration: 60, seed: 1, speed: 1 });
    let n = 0;
    handler = (_m, path) => {
      if (path.endsWith("/report")) {
        if (n++ < 2) throw new ApiError(409, "still running");
        return { design: "late" };
      }
      return {};
    };
    useSim.getState().ingestFrame(frame(60, 0n, SimState.FINISHED));
    expect(useSim.getState().state).toBe("finished");
    await vi.waitFor(() => expect(useSim.getState().report).toEqual({ design: "late" }), {
      timeout: 3000,
    });
    expect(n).toBe(3);
  });
});
