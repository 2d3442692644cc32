// The run bar: Run sends the design in the store with the chosen duration, seed and speed;
// the buttons follow the state; the figures come from the latest frame, then the report.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { act, cleanup, fireEvent, render, screen } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { FrameSchema, TotalsSchema } from "../gen/sdsim_pb";

vi.mock("../canvas/Canvas", () => ({ designBounds: () => null }));
vi.mock("../api/ws", () => ({
  simSocket: {
    connect: () => {},
    onStatus: () => () => {},
    onMessage: () => () => {},
    status: "open",
    isOpen: () => false,
    subscribe: () => {},
    unsubscribe: () => {},
  },
}));

import { RunBar } from "./RunBar";
import { useRunSettings } from "./config";
import { useDesign } from "../store/design";
import { useSim } from "../store/sim";

const doc = {
  version: 1,
  name: "d",
  components: [{ id: "api", type: "service" }],
  edges: [],
  workload: [{ to: "api", rps: 250 }],
};

let start: ReturnType<typeof vi.fn>;
beforeEach(() => {
  useDesign.getState().load(doc, "p", 1);
  useRunSettings.getState().set({ duration: 60, seed: 1, speed: 1 });
  start = vi.fn(async () => {});
  useSim.setState({ state: "idle", start, report: null, frame: null, simTime: 0, duration: 0 } as never);
});
afterEach(() => cleanup());

describe("RunBar", () => {
  it("runs the design in the store with the settings", () => {
    render(<RunBar />);
    expect(screen.getByTestId("run-settings").textContent).toContain("250 rps → api");
    fireEvent.click(screen.getByTestId("run-speed-100x"));
    fireEvent.click(screen.getByTestId("run-settings"));
    fireEvent.change(screen.getByTestId("run-duration"), { target: { value: "90" } });
    fireEvent.change(screen.getByTestId("run-seed"), { target: { value: "7" } });
    fireEvent.click(screen.getByTestId("run-start"));
    expect(start).toHaveBeenCalledTimes(1);
    const [sent, config] = start.mock.calls[0];
    expect(sent).toEqual(useDesign.getState().toJSON());
    expect(config).toEqual({ duration: 90, seed: 7, speed: 100 });
  });

  it("Ctrl+Enter runs too", () => {
    render(<RunBar />);
    fireEvent.keyDown(window, { key: "Enter", ctrlKey: true });
    expect(start).toHaveBeenCalledTimes(1);
  });

  it("shows Pause and Stop while running, the clock and the frame's figures", () => {
    render(<RunBar />);
    const frame = create(FrameSchema, {
      simTime: 12.5,
      totals: create(TotalsSchema, { throughput: 249.6, p99Ms: 12.25, errorRate: 0.02, costMonth: 146 }),
    });
    act(() => useSim.setState({ state: "running", frame, simTime: 12.5, duration: 60 }));
    expect(screen.queryByTestId("run-start")).toBeNull();
    expect(screen.getByTestId("run-pause")).toBeTruthy();
    expect((screen.getByTestId("run-stop") as HTMLButtonElement).disabled).toBe(false);
    expect((screen.getByTestId("run-step") as HTMLButtonElement).disabled).toBe(true);
    expect(screen.getByTestId("run-clock").textContent).toContain("12.5 / 60 s");
    expect(screen.getByTestId("metric-throughput").textContent).toBe("250/s");
    expect(screen.getByTestId("metric-p99").textContent).toBe("12.3 ms");
    expect(screen.getByTestId("metric-errors").textContent).toBe("2.0%");
    expect(screen.getByTestId("metric-cost").textContent).toBe("$146/mo");
  });

  it("after the end: Run again, and the whole run's figures from the report", () => {
    render(<RunBar />);
    act(() =>
      useSim.setState({
        state: "finished",
        simTime: 60,
        duration: 60,
        frame: create(FrameSchema, { totals: create(TotalsSchema, { throughput: 1 }) }),
        report: { e2e: { throughput_rps: 248.2, p99_ms: 30, error_rate: 0 }, cost_month: 146 },
      }),
    );
    expect(screen.getByTestId("run-start").textContent).toContain("Run again");
    expect(screen.getByTestId("metric-throughput").textContent).toBe("248/s");
    expect(screen.getByTestId("metric-p99").textContent).toBe("30 ms");
  });
});
