// Number formatting shared by the run bar, charts and report.

/** 0.5 s, 12.3 s, 4 min 05 s, 1 h 02 min. */
export function fmtSimTime(s: number): string {
  if (!(s >= 0)) return "–";
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(Math.floor(s % 60)).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

/** A figure with about three significant digits and a thin unit: 1.23k, 45.6, 0.123. */
export function fmtNum(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toPrecision(digits)}G`;
  if (a >= 1e6) return `${(v / 1e6).toPrecision(digits)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(digits)}k`;
  if (a >= 100) return Math.round(v).toString();
  if (a === 0) return "0";
  if (a < 0.001) return v.toExponential(1);
  return Number(v.toPrecision(digits)).toString();
}

export function fmtMs(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  if (v >= 10_000) return `${(v / 1000).toFixed(1)} s`;
  return `${fmtNum(v)} ms`;
}

export function fmtPct(v: number | null | undefined, digits = 1): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  if (v > 0 && v < 0.001) return "<0.1%";
  return `${(v * 100).toFixed(digits)}%`;
}

export function fmtUsd(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return "–";
  return `$${Math.round(v).toLocaleString("en-US")}`;
}

/** The run clock: "43.8 / 60 s", "2:05 / 10:00" past 1000 s. */
export function fmtClock(t: number, total: number): string {
  if (total < 1000) return `${(Math.max(0, t)).toFixed(1)} / ${fmtNum(total)} s`;
  const mmss = (x: number) => `${Math.floor(x / 60)}:${String(Math.floor(x % 60)).padStart(2, "0")}`;
  return `${mmss(t)} / ${mmss(total)}`;
}
