// Chart series from the history rings, with the analytic prediction as a flat line.
import { describe, expect, it } from "vitest";
import { create } from "@bufbuild/protobuf";
import { ComponentStatSchema, FrameSchema, TotalsSchema } from "../gen/sdsim_pb";
import { History, type Analysis } from "../store/sim";
import { chartData } from "./chartData";

function frame(t: number) {
  return create(FrameSchema, {
    simTime: t,
    totals: create(TotalsSchema, { arrivalRate: 100, throughput: 90 + t, errorRate: 0.05, p50Ms: 2, p95Ms: 5, p99Ms: 9 }),
    components: [
      create(ComponentStatSchema, { index: 0, throughput: 50, arrivalRate: 50, utilization: 0.5, replicas: 2, p99Ms: 4 }),
      create(ComponentStatSchema, { index: 1, throughput: 40, arrivalRate: 40, utilization: 0.25, replicas: 3, errorRate: 1 }),
    ],
  });
}

const analysis: Analysis = {
  components: { db: { arrival_rps: 40, utilization: 0.2, mean_response_ms: 3, saturation_rps: 200 } },
  offered_rps: 100,
  e2e_mean_ms: 4,
  saturation_rps: 200,
  bottleneck: "db",
  reason: "db saturates first",
};

describe("chartData", () => {
  const h = new History(10);
  h.clear(2);
  [1, 2, 3].forEach((t) => h.add(frame(t), 0));

  it("whole design: throughput beside the model's offered rate", () => {
    const d = chartData("throughput", h, -1, null, analysis);
    expect(d.t).toEqual([1, 2, 3]);
    expect(d.series.map((s) => s.label)).toEqual(["arrivals/s", "throughput/s", "model offered"]);
    expect(d.series[1].values).toEqual([91, 92, 93]);
    expect(d.series[2].values).toEqual([100, 100, 100]);
    expect(d.predicted).toBe("model 100/s");
  });

  it("whole design: error rate in percent, replicas summed over components", () => {
    expect(chartData("errors", h, -1, null, null).series[0].values).toEqual([5, 5, 5]);
    const rep = chartData("replicas", h, -1, null, null);
    expect(rep.series[0].values).toEqual([5, 5, 5]);
    expect(rep.series[1]).toMatchObject({ label: "$/month", right: true });
  });

  it("one component: its own series and its analytic figures", () => {
    const lat = chartData("latency", h, 1, "db", analysis);
    expect(lat.series.find((s) => s.label === "model mean")!.values).toEqual([3, 3, 3]);
    const rep = chartData("replicas", h, 1, "db", analysis);
    expect(rep.series[0].values).toEqual([3, 3, 3]);
    expect(rep.series[1].values).toEqual([25, 25, 25]);
    expect(rep.series[2].values).toEqual([20, 20, 20]);
    expect(chartData("errors", h, 1, "db", analysis).series[0].values).toEqual([1, 1, 1]);
  });

  it("no prediction: the model line is empty (null), not zero", () => {
    const d = chartData("throughput", h, 0, "api", analysis);
    expect(d.series[2].values).toEqual([null, null, null]);
    expect(d.predicted).toBeUndefined();
  });
});
