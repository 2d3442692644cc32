// The report table: rows and summary from a real `sdsim run --json` report (ecommerce, 10 s),
// SLO failures in words, and the Report tab rendering them.
import { afterEach, describe, expect, it } from "vitest";
import { cleanup, render, screen, within } from "@testing-library/react";
import report from "./fixtures/ecommerce-report.json";
import { reportRows, reportSummary, sloFailures } from "./report";
import { ReportView } from "./ReportView";
import { useSim } from "../store/sim";

afterEach(() => {
  cleanup();
  useSim.setState({ report: null, reportError: null, state: "idle" });
});

describe("reportRows", () => {
  const rows = reportRows(report);

  it("has one row per component in report order, with the figures of the JSON", () => {
    expect(rows.map((r) => r.id)).toEqual(Object.keys(report.components));
    const api = rows.find((r) => r.id === "api")!;
    const src = report.components.api;
    expect(api.type).toBe("service");
    expect(api.throughput).toBe(src.throughput_rps);
    expect(api.utilization).toBe(src.utilization);
    expect(api.analyticUtilization).toBe(src.analytic.utilization);
    expect(api.p99).toBe(src.p99_ms);
    expect(api.p99Ci).toBe(src.ci95.p99_ms_half_width);
    expect(api.meanRelDiff).toBe(src.analytic.mean_response_rel_diff);
    expect(api.costMonth).toBe(src.cost_month);
  });

  it("marks exactly the report's bottleneck", () => {
    expect(rows.filter((r) => r.bottleneck).map((r) => r.id)).toEqual([report.bottleneck.id]);
  });

  it("treats null figures as null and a missing report as no rows", () => {
    const r = reportRows({ components: { x: { p99_ms: null, analytic: null } } });
    expect(r[0].p99).toBeNull();
    expect(r[0].analyticMeanMs).toBeNull();
    expect(r[0].errors).toBe(0);
    expect(reportRows(null)).toEqual([]);
  });
});

describe("reportSummary and sloFailures", () => {
  it("reads e2e, cost, SLO and the analytic reason", () => {
    const s = reportSummary(report)!;
    expect(s.throughput).toBe(report.e2e.throughput_rps);
    expect(s.p99Ci).toBe(report.e2e.ci95.p99_ms_half_width);
    expect(s.costMonth).toBe(report.cost_month);
    expect(s.slo).toEqual({ p99Ms: 250, errorRate: 0.001, pass: true });
    expect(s.analytic?.reason).toBe(report.analytic.reason);
    expect(sloFailures(s)).toEqual([]);
  });

  it("says which objective failed", () => {
    const s = reportSummary({
      e2e: { p99_ms: 312.4, error_rate: 0.02 },
      slo: { p99_ms: 200, error_rate: 0.001, pass: false },
    })!;
    expect(sloFailures(s)).toEqual(["p99 312 ms > 200 ms", "error rate 2.00% > 0.10%"]);
  });
});

describe("ReportView", () => {
  it("renders the SLO verdict, the cards and one table row per component", () => {
    useSim.setState({ report, state: "finished" });
    render(<ReportView />);
    expect(screen.getByTestId("report-slo").textContent).toContain("PASS");
    expect(screen.getByTestId("report-cost").textContent).toContain("$2,289");
    const table = screen.getByTestId("report-table");
    expect(within(table).getAllByRole("row")).toHaveLength(1 + Object.keys(report.components).length);
    const api = screen.getByTestId("report-row-api");
    expect(api.className).toContain("bn");
    expect(api.textContent).toContain("bottleneck");
    expect(api.textContent).toContain("73%"); // utilization 0.732
  });

  it("says the report comes at the end while running, and shows a fetch error", () => {
    useSim.setState({ report: null, state: "running" });
    const { unmount } = render(<ReportView />);
    expect(screen.getByTestId("report-empty").textContent).toContain("at the end");
    unmount();
    useSim.setState({ report: null, reportError: "no such simulation", state: "stopped" });
    render(<ReportView />);
    expect(screen.getByTestId("report-error").textContent).toContain("no such simulation");
  });
});
