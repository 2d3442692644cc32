// The report JSON of a finished run (docs/report-format.md) turned into table rows and a
// summary, shared by the Report tab and the PDF export.
import type { Report } from "../store/sim";

type Obj = Record<string, unknown>;

const n = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const o = (v: unknown): Obj => (v && typeof v === "object" ? (v as Obj) : {});

export interface ReportRow {
  id: string;
  type: string;
  throughput: number | null;
  utilization: number | null;
  analyticUtilization: number | null;
  meanMs: number | null;
  analyticMeanMs: number | null;
  /** (simulated − analytic) / analytic of the mean response, as the report gives it. */
  meanRelDiff: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  p99Ci: number | null; // 95% half width
  meanCi: number | null;
  errors: number;
  dropped: number;
  timeouts: number;
  replicas: number | null;
  costMonth: number | null;
  bottleneck: boolean;
}

export interface ReportSummary {
  design: string;
  durationS: number | null;
  warmupS: number | null;
  seed: number | null;
  replications: number | null;
  events: number | null;
  throughput: number | null;
  meanMs: number | null;
  meanCi: number | null;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  p99Ci: number | null;
  errorRate: number | null;
  completed: number | null;
  failed: number | null;
  dropped: number | null;
  costMonth: number | null;
  bottleneck: string | null;
  bottleneckUtilization: number | null;
  slo: { p99Ms: number | null; errorRate: number | null; pass: boolean } | null;
  analytic: {
    offeredRps: number | null;
    e2eMeanMs: number | null;
    saturationRps: number | null;
    bottleneck: string | null;
    reason: string | null;
    error: string | null;
  } | null;
  scenario: string | null;
}

export function reportRows(r: Report | null): ReportRow[] {
  if (!r) return [];
  const comps = o(r.components);
  const bottleneck = String(o(r.bottleneck).id ?? "");
  return Object.entries(comps).map(([id, raw]) => {
    const c = o(raw);
    const a = o(c.analytic);
    const ci = o(c.ci95);
    return {
      id,
      type: String(c.type ?? c.behavior ?? ""),
      throughput: n(c.throughput_rps),
      utilization: n(c.utilization),
      analyticUtilization: n(a.utilization),
      meanMs: n(c.mean_response_ms),
      analyticMeanMs: n(a.mean_response_ms),
      meanRelDiff: n(a.mean_response_rel_diff),
      p50: n(c.p50_ms),
      p95: n(c.p95_ms),
      p99: n(c.p99_ms),
      p99Ci: n(ci.p99_ms_half_width),
      meanCi: n(ci.mean_ms_half_width),
      errors: n(c.errors) ?? 0,
      dropped: n(c.dropped) ?? 0,
      timeouts: n(c.timeouts) ?? 0,
      replicas: n(c.replicas_mean),
      costMonth: n(c.cost_month),
      bottleneck: id === bottleneck,
    };
  });
}

export function reportSummary(r: Report | null): ReportSummary | null {
  if (!r) return null;
  const e = o(r.e2e);
  const ci = o(e.ci95);
  const slo = r.slo ? o(r.slo) : null;
  const an = r.analytic ? o(r.analytic) : null;
  const b = o(r.bottleneck);
  return {
    design: String(r.design ?? "design"),
    durationS: n(r.duration_s),
    warmupS: n(r.warmup_s),
    seed: n(r.seed),
    replications: n(r.replications),
    events: n(r.events),
    throughput: n(e.throughput_rps),
    meanMs: n(e.mean_ms),
    meanCi: n(ci.mean_ms_half_width),
    p50: n(e.p50_ms),
    p95: n(e.p95_ms),
    p99: n(e.p99_ms),
    p99Ci: n(ci.p99_ms_half_width),
    errorRate: n(e.error_rate),
    completed: n(e.completed),
    failed: n(e.failed),
    dropped: n(e.dropped),
    costMonth: n(r.cost_month),
    bottleneck: typeof b.id === "string" ? b.id : null,
    bottleneckUtilization: n(b.utilization),
    slo: slo
      ? { p99Ms: n(slo.p99_ms), errorRate: n(slo.error_rate), pass: slo.pass === true }
      : null,
    analytic: an
      ? {
          offeredRps: n(an.offered_rps),
          e2eMeanMs: n(an.e2e_mean_ms),
          saturationRps: n(an.saturation_rps),
          bottleneck: typeof an.bottleneck === "string" ? an.bottleneck : null,
          reason: typeof an.reason === "string" ? an.reason : null,
          error: typeof an.error === "string" ? an.error : null,
        }
      : null,
    scenario: typeof r.scenario === "string" ? r.scenario : null,
  };
}

/** Which SLO objectives failed, in words ("p99 312 ms > 200 ms"). */
export function sloFailures(s: ReportSummary): string[] {
  const out: string[] = [];
  if (!s.slo) return out;
  if (s.slo.p99Ms != null && s.p99 != null && s.p99 > s.slo.p99Ms) {
    out.push(`p99 ${Math.round(s.p99)} ms > ${s.slo.p99Ms} ms`);
  }
  if (s.slo.errorRate != null && s.errorRate != null && s.errorRate > s.slo.errorRate) {
    out.push(`error rate ${(s.errorRate * 100).toFixed(2)}% > ${(s.slo.errorRate * 100).toFixed(2)}%`);
  }
  return out;
}
