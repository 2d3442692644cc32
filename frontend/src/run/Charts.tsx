// Charts tab: throughput, latency percentiles, errors and replicas over simulated time, for
// the whole design or for the selected component, with the analytic prediction drawn as a
// dashed line beside the simulated figures. uPlot instances are fed imperatively from the
// history rings at 4 Hz (no React re-render per frame).
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useDesign } from "../store/design";
import { getHistory, useSim, type Analysis, type History } from "../store/sim";
import { fmtMs, fmtNum } from "./format";

export type ChartKind = "throughput" | "latency" | "errors" | "replicas";

export interface ChartSeries {
  label: string;
  color: string;
  dash?: number[];
  values: (number | null)[];
}

export interface ChartData {
  t: number[];
  series: ChartSeries[];
  /** The analytic figure shown in the title, when there is one. */
  predicted?: string;
}

const C = {
  accent: "#5b5bd6",
  green: "#1f8a4c",
  amber: "#d9a400",
  orange: "#e5732a",
  red: "#d93c3c",
  grey: "#98a2b3",
  purple: "#7a5af8",
};

const flat = (n: number, v: number | null | undefined) =>
  new Array<number | null>(n).fill(v ?? null);

/** Series for one chart (pure: tested). `comp` is a component index or -1 for the design. */
export function chartData(
  kind: ChartKind,
  h: History,
  comp: number,
  compId: string | null,
  analysis: Analysis | null,
): ChartData {
  const t = h.totals.t.toArray();
  const n = t.length;
  const nan = (a: number[]) => a.map((v) => (Number.isFinite(v) ? v : null));
  const a = comp >= 0 && compId ? analysis?.components?.[compId] : undefined;
  if (comp < 0 || !h.comps[comp]) {
    const T = h.totals;
    switch (kind) {
      case "throughput":
        return {
          t,
          series: [
            { label: "arrivals/s", color: C.grey, values: nan(T.arrival.toArray()) },
            { label: "throughput/s", color: C.accent, values: nan(T.throughput.toArray()) },
            { label: "model offered", color: C.accent, dash: [6, 4], values: flat(n, analysis?.offered_rps) },
          ],
          predicted: analysis?.offered_rps != null ? `model ${fmtNum(analysis.offered_rps)}/s` : undefined,
        };
      case "latency":
        return {
          t,
          series: [
            { label: "p50", color: C.green, values: nan(T.p50.toArray()) },
            { label: "p95", color: C.amber, values: nan(T.p95.toArray()) },
            { label: "p99", color: C.red, values: nan(T.p99.toArray()) },
            { label: "model mean", color: C.accent, dash: [6, 4], values: flat(n, analysis?.e2e_mean_ms) },
          ],
          predicted: analysis?.e2e_mean_ms != null ? `model mean ${fmtMs(analysis.e2e_mean_ms)}` : undefined,
        };
      case "errors":
        return {
          t,
          series: [
            { label: "error %", color: C.red, values: T.errorRate.toArray().map((v) => (Number.isFinite(v) ? v * 100 : null)) },
          ],
        };
      case "replicas": {
        // Total replicas over all components, and the monthly cost.
        const sum = new Array<number | null>(n).fill(0);
        for (const c of h.comps) {
          const r = c.replicas.toArray();
          for (let i = 0; i < n; i++) {
            const v = r[i];
            if (Number.isFinite(v)) sum[i] = (sum[i] ?? 0) + v;
          }
        }
        return {
          t,
          series: [{ label: "replicas (all)", color: C.purple, values: sum }],
          predicted: undefined,
        };
      }
    }
  }
  const R = h.comps[comp];
  switch (kind) {
    case "throughput":
      return {
        t,
        series: [
          { label: "arrivals/s", color: C.grey, values: nan(R.arrival.toArray()) },
          { label: "throughput/s", color: C.accent, values: nan(R.throughput.toArray()) },
          { label: "model arrivals", color: C.accent, dash: [6, 4], values: flat(n, a?.arrival_rps) },
        ],
        predicted: a?.arrival_rps != null ? `model ${fmtNum(a.arrival_rps)}/s` : undefined,
      };
    case "latency":
      return {
        t,
        series: [
          { label: "p50", color: C.green, values: nan(R.p50.toArray()) },
          { label: "p99", color: C.red, values: nan(R.p99.toArray()) },
          { label: "model mean", color: C.accent, dash: [6, 4], values: flat(n, a?.mean_response_ms) },
        ],
        predicted: a?.mean_response_ms != null ? `model mean ${fmtMs(a.mean_response_ms)}` : undefined,
      };
    case "errors":
      return {
        t,
        series: [{ label: "errors/s", color: C.red, values: nan(R.errors.toArray()) }],
      };
    case "replicas":
      return {
        t,
        series: [
          { label: "replicas", color: C.purple, values: nan(R.replicas.toArray()) },
          { label: "utilization %", color: C.orange, values: R.utilization.toArray().map((v) => (Number.isFinite(v) ? v * 100 : null)) },
          { label: "model util %", color: C.orange, dash: [6, 4], values: flat(n, a?.utilization != null ? a.utilization * 100 : null) },
        ],
        predicted: a?.utilization != null ? `model ${Math.round(a.utilization * 100)}% busy` : undefined,
      };
  }
}

const TITLES: Record<ChartKind, string> = {
  throughput: "Throughput",
  latency: "Latency (ms)",
  errors: "Errors",
  replicas: "Replicas",
};

function Chart({ kind, comp, compId }: { kind: ChartKind; comp: number; compId: string | null }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const [pred, setPred] = useState<string | undefined>();
  const analysis = useSim((s) => s.analysis);

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    let lastVersion = -1;
    let shape = "";
    const build = () => {
      const d = chartData(kind, getHistory(), comp, compId, useSim.getState().analysis);
      const key = d.series.map((s) => s.label).join("|");
      const data = [d.t, ...d.series.map((s) => s.values)] as uPlot.AlignedData;
      setPred(d.predicted);
      if (!plot.current || key !== shape) {
        plot.current?.destroy();
        shape = key;
        const width = Math.max(200, el.clientWidth);
        plot.current = new uPlot(
          {
            width,
            height: 150,
            legend: { show: true, live: false },
            cursor: { drag: { x: false, y: false } },
            scales: { x: { time: false } },
            axes: [
              { size: 24, stroke: "#7a808c", grid: { stroke: "#eef0f3" }, ticks: { show: false },
                values: (_u, v) => v.map((x) => `${fmtNum(x)}s`) },
              { size: 44, stroke: "#7a808c", grid: { stroke: "#eef0f3" }, ticks: { show: false },
                values: (_u, v) => v.map((x) => fmtNum(x)) },
            ],
            series: [
              { label: "sim s" },
              ...d.series.map((s) => ({
                label: s.label,
                stroke: s.color,
                width: s.dash ? 1.25 : 1.75,
                dash: s.dash,
                points: { show: false },
                spanGaps: false,
              })),
            ],
          },
          data,
          el,
        );
      } else {
        plot.current.setData(data);
      }
    };
    build();
    const timer = setInterval(() => {
      const h = getHistory();
      if (h.version === lastVersion) return;
      lastVersion = h.version;
      build();
    }, 250);
    const ro = new ResizeObserver(() => {
      if (plot.current && el.clientWidth > 0) plot.current.setSize({ width: el.clientWidth, height: 150 });
    });
    ro.observe(el);
    return () => {
      clearInterval(timer);
      ro.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // analysis: rebuild the model lines when the prediction arrives
  }, [kind, comp, compId, analysis]);

  return (
    <div className="chart-card" data-testid={`chart-${kind}`}>
      <div className="chart-title">
        <span>{TITLES[kind]}</span>
        {pred && <span className="pred">{pred}</span>}
      </div>
      <div className="chart-host" ref={host} />
    </div>
  );
}

export function Charts() {
  const selected = useDesign((s) => s.selection.components[0] ?? null);
  const comps = useSim((s) => s.components);
  const state = useSim((s) => s.state);
  const analysis = useSim((s) => s.analysis);
  const analysisError = useSim((s) => s.analysisError);
  const [pinned, setPinned] = useState<"design" | "selection">("selection");
  const idx = selected ? comps.findIndex((c) => c.id === selected) : -1;
  const comp = pinned === "selection" ? idx : -1;
  const compId = comp >= 0 ? comps[comp].id : null;

  if (state === "idle" && comps.length === 0) {
    return (
      <div className="bp-empty">
        <strong>No run yet</strong>
        Press Run to simulate the design; throughput, latency, errors and replicas appear here
        {analysis ? "" : ", beside the analytic prediction"}.
      </div>
    );
  }
  return (
    <div className="charts">
      <div className="charts-head">
        <span className="charts-scope" data-testid="charts-scope">
          {compId ? `Component ${compId}` : "Whole design"}
        </span>
        {selected && idx >= 0 && (
          <div className="rb-seg">
            <button className={`rb-seg-btn${pinned === "design" ? " on" : ""}`} onClick={() => setPinned("design")}>
              design
            </button>
            <button className={`rb-seg-btn${pinned === "selection" ? " on" : ""}`} onClick={() => setPinned("selection")}>
              {selected}
            </button>
          </div>
        )}
        {!selected && <span className="muted small">Select a component to see its own charts.</span>}
        {analysis?.reason && (
          <span className="charts-reason" title="Analytic bottleneck (POST /api/analyze)">
            ⚠ {analysis.reason}
          </span>
        )}
        {analysisError && <span className="muted small">No analytic prediction: {analysisError}</span>}
      </div>
      <div className="charts-grid">
        {(["throughput", "latency", "errors", "replicas"] as ChartKind[]).map((k) => (
          <Chart key={k} kind={k} comp={comp} compId={compId} />
        ))}
      </div>
    </div>
  );
}
