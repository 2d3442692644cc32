// Chart series from the history rings (pure, no uPlot: tested in jsdom), with the analytic
// prediction as a flat dashed line.
import type { Analysis, History } from "../store/sim";
import { fmtMs, fmtNum } from "./format";

export type ChartKind = "throughput" | "latency" | "errors" | "replicas";

export interface ChartSeries {
  label: string;
  color: string;
  dash?: number[];
  /** Drawn against a second axis on the right (counts beside percentages). */
  right?: boolean;
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
          series: [
            { label: "replicas (all)", color: C.purple, values: sum },
            { label: "$/month", color: C.green, right: true, values: nan(h.totals.cost.toArray()) },
          ],
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
          { label: "replicas", color: C.purple, right: true, values: nan(R.replicas.toArray()) },
          { label: "utilization %", color: C.orange, values: R.utilization.toArray().map((v) => (Number.isFinite(v) ? v * 100 : null)) },
          { label: "model util %", color: C.orange, dash: [6, 4], values: flat(n, a?.utilization != null ? a.utilization * 100 : null) },
        ],
        predicted: a?.utilization != null ? `model ${Math.round(a.utilization * 100)}% busy` : undefined,
      };
  }
}

