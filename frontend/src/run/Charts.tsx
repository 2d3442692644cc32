// Charts tab: throughput, latency percentiles, errors and replicas over simulated time, for
// the whole design or for the selected component, with the analytic prediction drawn as a
// dashed line beside the simulated figures. uPlot instances are fed imperatively from the
// history rings at 4 Hz (no React re-render per frame).
import { useEffect, useRef, useState } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { useDesign } from "../store/design";
import { getHistory, useSim } from "../store/sim";
import { fmtNum } from "./format";
import { chartData, type ChartKind } from "./chartData";

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
      const key = d.series.map((s) => s.label + (s.right ? ">" : "")).join("|");
      const right = d.series.some((s) => s.right);
      const rightColor = d.series.find((s) => s.right)?.color ?? "#7a808c";
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
            scales: {
              x: { time: false },
              ...(right ? { right: { range: (_u: uPlot, _min: number, max: number) => [0, Math.max(2, Math.ceil(max * 1.25))] as uPlot.Range.MinMax } } : {}),
            },
            axes: [
              { size: 24, stroke: "#7a808c", grid: { stroke: "#eef0f3" }, ticks: { show: false },
                values: (_u, v) => v.map((x) => `${fmtNum(x)}s`) },
              { size: 44, stroke: "#7a808c", grid: { stroke: "#eef0f3" }, ticks: { show: false },
                values: (_u, v) => v.map((x) => fmtNum(x)) },
              ...(right
                ? [{ scale: "right", side: 1, size: 36, stroke: rightColor, grid: { show: false },
                     ticks: { show: false }, values: (_u: uPlot, v: number[]) => v.map((x) => fmtNum(x)) }]
                : []),
            ],
            series: [
              { label: "sim s" },
              ...d.series.map((s) => ({
                label: s.label,
                scale: s.right ? "right" : "y",
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
