// Report tab: after a run ends, GET /api/simulations/:id/report as summary cards (SLO pass or
// fail, throughput, latency with 95% confidence half-widths, errors, cost per month), the
// analytic reason, and the per-component table with the model's figures beside the simulated.
import { useSim, isTerminal } from "../store/sim";
import { fmtMs, fmtNum, fmtPct, fmtUsd } from "./format";
import { reportRows, reportSummary, sloFailures } from "./report";

export function ReportView() {
  const report = useSim((s) => s.report);
  const reportError = useSim((s) => s.reportError);
  const state = useSim((s) => s.state);
  const sum = reportSummary(report);

  if (!sum) {
    if (reportError) {
      return (
        <div className="bp-empty" data-testid="report-error">
          <strong>No report</strong>
          {reportError}
        </div>
      );
    }
    return (
      <div className="bp-empty" data-testid="report-empty">
        <strong>{isTerminal(state) ? "Loading the report…" : "The report comes at the end"}</strong>
        {isTerminal(state) ? "" : "Let the run finish, or stop it: the report covers what ran."}
      </div>
    );
  }
  const rows = reportRows(report);
  const fails = sloFailures(sum);
  return (
    <div className="report" data-testid="report">
      <div className="report-cards">
        {sum.slo && (
          <div className={`report-card ${sum.slo.pass ? "slo-pass" : "slo-fail"}`} data-testid="report-slo">
            <div className="k">SLO</div>
            <div className="v">{sum.slo.pass ? "PASS" : "FAIL"}</div>
            <div className="s">
              {fails.length
                ? fails.join("; ")
                : [sum.slo.p99Ms != null ? `p99 ≤ ${sum.slo.p99Ms} ms` : "", sum.slo.errorRate != null ? `errors ≤ ${fmtPct(sum.slo.errorRate, 2)}` : ""]
                    .filter(Boolean)
                    .join(", ")}
            </div>
          </div>
        )}
        <Card k="Throughput" v={`${fmtNum(sum.throughput)}/s`} s={sum.analytic?.offeredRps != null ? `model ${fmtNum(sum.analytic.offeredRps)}/s offered` : undefined} testid="report-throughput" />
        <Card k="Mean" v={fmtMs(sum.meanMs)} s={`±${fmtMs(sum.meanCi)} (95%)${sum.analytic?.e2eMeanMs != null ? ` · model ${fmtMs(sum.analytic.e2eMeanMs)}` : ""}`} />
        <Card k="p99" v={fmtMs(sum.p99)} s={`±${fmtMs(sum.p99Ci)} (95%) · p95 ${fmtMs(sum.p95)}`} />
        <Card k="Errors" v={fmtPct(sum.errorRate, 2)} s={`${fmtNum(sum.failed)} failed · ${fmtNum(sum.dropped)} dropped`} bad={(sum.errorRate ?? 0) > 0} testid="report-errors" />
        <Card k="Cost" v={`${fmtUsd(sum.costMonth)}`} s="per month" testid="report-cost" />
        <Card k="Bottleneck" v={sum.bottleneck ?? "–"} s={sum.bottleneckUtilization != null ? `${fmtPct(sum.bottleneckUtilization, 0)} busy` : undefined} />
      </div>
      <p className="report-note">
        {fmtNum(sum.durationS)} s simulated ({fmtNum(sum.warmupS)} s warm-up left out), seed {sum.seed ?? "–"}, {fmtNum(sum.events)} events.
        {sum.analytic?.reason && <> Model: {sum.analytic.reason}.</>}
        {sum.analytic?.error && <> No analytic prediction: {sum.analytic.error}.</>}
        {sum.scenario && <> Scenario: {sum.scenario}.</>}
      </p>
      <table className="report-table" data-testid="report-table">
        <thead>
          <tr>
            <th>component</th>
            <th>type</th>
            <th>throughput/s</th>
            <th>utilization</th>
            <th className="model">model</th>
            <th>mean</th>
            <th className="model">model</th>
            <th>p50</th>
            <th>p95</th>
            <th>p99 ±95%</th>
            <th>errors</th>
            <th>dropped</th>
            <th>timeouts</th>
            <th>replicas</th>
            <th>$/month</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} className={r.bottleneck ? "bn" : ""} data-testid={`report-row-${r.id}`}>
              <td>
                <strong>{r.id}</strong>
                {r.bottleneck && <span className="bn-tag">bottleneck</span>}
              </td>
              <td>{r.type}</td>
              <td>{fmtNum(r.throughput)}</td>
              <td>{fmtPct(r.utilization, 0)}</td>
              <td className="model">{fmtPct(r.analyticUtilization, 0)}</td>
              <td>{fmtMs(r.meanMs)}</td>
              <td className="model" title={r.meanRelDiff != null ? `simulated vs model: ${(r.meanRelDiff * 100).toFixed(1)}%` : undefined}>
                {fmtMs(r.analyticMeanMs)}
              </td>
              <td>{fmtMs(r.p50)}</td>
              <td>{fmtMs(r.p95)}</td>
              <td>
                {fmtMs(r.p99)}
                {r.p99Ci != null && <span className="muted"> ±{fmtNum(r.p99Ci)}</span>}
              </td>
              <td className={r.errors > 0 ? "bad" : ""}>{fmtNum(r.errors)}</td>
              <td className={r.dropped > 0 ? "bad" : ""}>{fmtNum(r.dropped)}</td>
              <td>{fmtNum(r.timeouts)}</td>
              <td>{fmtNum(r.replicas)}</td>
              <td>{fmtUsd(r.costMonth)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function Card(props: { k: string; v: string; s?: string; bad?: boolean; testid?: string }) {
  return (
    <div className={`report-card${props.bad ? " slo-fail" : ""}`} data-testid={props.testid}>
      <div className="k">{props.k}</div>
      <div className="v">{props.v}</div>
      {props.s && <div className="s">{props.s}</div>}
    </div>
  );
}
