// Export and import: PNG of the canvas (the editor's Konva stage), a PDF with that picture and
// the report, the design as JSON, and a JSON file loaded back into the design store.
import { jsPDF } from "jspdf";
import { api, ApiError } from "../api/client";
import { getCanvasStage } from "../run/overlay";
import { designBounds } from "../canvas/Canvas";
import { setView, view, viewport } from "../canvas/view";
import { reportRows, reportSummary, sloFailures } from "../run/report";
import { fmtMs, fmtNum, fmtPct, fmtUsd } from "../run/format";
import { useDesign, type Design } from "../store/design";
import type { Report } from "../store/sim";

export function safeName(s: string | undefined): string {
  const base = (s ?? "design").trim().replace(/[^A-Za-z0-9_.-]+/g, "-").replace(/^-+|-+$/g, "");
  return base || "design";
}

export function downloadBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = url;
  a.download = filename;
  a.style.display = "none";
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** The design document as pretty JSON (what Export JSON writes). */
export function designJson(doc: Design): string {
  return JSON.stringify(doc, null, 2) + "\n";
}

export function exportJson(): void {
  const doc = useDesign.getState().toJSON();
  downloadBlob(new Blob([designJson(doc)], { type: "application/json" }), `${safeName(doc.name)}.json`);
}

/**
 * The whole design as a PNG data URL on a white background, at 2x for print: the view is
 * moved for a moment so that every component fits (the editor draws only what its view
 * shows), the stage is rendered off screen, and the view is put back. Null when the editor
 * has not registered its stage.
 */
export function canvasPng(pixelRatio = 2): { url: string; width: number; height: number } | null {
  const stage = getCanvasStage();
  if (!stage) return null;
  const b = designBounds(useDesign.getState().doc);
  const saved = { ...view };
  const savedPort = { ...viewport };
  const sw = stage.width();
  const sh = stage.height();
  let src: HTMLCanvasElement;
  let width = sw;
  let height = sh;
  try {
    if (b) {
      // World pixels at scale 1, with room for the live labels above and below the nodes.
      const m = 48;
      width = Math.ceil(b.w + 2 * m);
      height = Math.ceil(b.h + 2 * m + 24);
      viewport.width = width;
      viewport.height = height;
      setView({ x: -b.x + m, y: -b.y + m, scale: 1 });
      stage.size({ width, height });
      stage.position({ x: view.x, y: view.y });
      stage.scale({ x: 1, y: 1 });
    }
    src = stage.toCanvas({ pixelRatio });
  } finally {
    viewport.width = savedPort.width;
    viewport.height = savedPort.height;
    setView(saved);
    stage.size({ width: sw, height: sh });
    stage.position({ x: saved.x, y: saved.y });
    stage.scale({ x: saved.scale, y: saved.scale });
    stage.batchDraw();
  }
  const out = document.createElement("canvas");
  out.width = src.width;
  out.height = src.height;
  const ctx = out.getContext("2d");
  if (!ctx) return null;
  ctx.fillStyle = "#ffffff";
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(src, 0, 0);
  return { url: out.toDataURL("image/png"), width, height };
}

export async function exportPng(): Promise<void> {
  const png = canvasPng();
  if (!png) throw new Error("the canvas is not ready");
  const blob = await (await fetch(png.url)).blob();
  downloadBlob(blob, `${safeName(useDesign.getState().doc.name)}.png`);
}

/** A PDF: title, the canvas picture, the run's summary and the per-component table. */
export function buildPdf(doc: Design, report: Report | null, png: ReturnType<typeof canvasPng>): jsPDF {
  const pdf = new jsPDF({ orientation: "landscape", unit: "pt", format: "a4" });
  const W = pdf.internal.pageSize.getWidth();
  const H = pdf.internal.pageSize.getHeight();
  const M = 36;
  let y = M;
  pdf.setFont("helvetica", "bold");
  pdf.setFontSize(18);
  pdf.text(doc.name ?? "design", M, y + 12);
  pdf.setFont("helvetica", "normal");
  pdf.setFontSize(9);
  pdf.setTextColor(120);
  pdf.text(`sdsim · ${new Date().toISOString().slice(0, 16).replace("T", " ")} UTC · ${doc.components.length} components, ${doc.edges.length} edges`, M, y + 28);
  pdf.setTextColor(0);
  y += 44;
  if (png) {
    const maxW = W - 2 * M;
    const maxH = report ? H * 0.5 : H - y - M;
    const s = Math.min(maxW / png.width, maxH / png.height, 1.5);
    pdf.addImage(png.url, "PNG", M, y, png.width * s, png.height * s);
    y += png.height * s + 16;
  }
  const sum = reportSummary(report);
  if (!sum) return pdf;
  if (y > H - 120) {
    pdf.addPage();
    y = M;
  }
  pdf.setFont("helvetica", "bold");
  pdf.setFontSize(12);
  pdf.text("Simulation report", M, y + 10);
  y += 24;
  pdf.setFont("helvetica", "normal");
  pdf.setFontSize(9);
  const fails = sloFailures(sum);
  const lines = [
    `${fmtNum(sum.durationS)} s simulated (warm-up ${fmtNum(sum.warmupS)} s), seed ${sum.seed ?? "–"}, ${fmtNum(sum.events)} events`,
    `Throughput ${fmtNum(sum.throughput)}/s · mean ${fmtMs(sum.meanMs)} (±${fmtMs(sum.meanCi)}) · p50 ${fmtMs(sum.p50)} · p95 ${fmtMs(sum.p95)} · p99 ${fmtMs(sum.p99)} (±${fmtMs(sum.p99Ci)}) · errors ${fmtPct(sum.errorRate, 2)} · cost ${fmtUsd(sum.costMonth)}/month`,
    sum.slo ? `SLO: ${sum.slo.pass ? "PASS" : "FAIL"}${fails.length ? " (" + fails.join("; ") + ")" : ""}` : "SLO: none set",
    sum.analytic?.reason ? `Analytic: ${sum.analytic.reason}` : sum.analytic?.error ? `Analytic: ${sum.analytic.error}` : "",
    sum.scenario ? `Scenario: ${sum.scenario}` : "",
  ].filter(Boolean);
  for (const l of lines) {
    const wrapped = pdf.splitTextToSize(l, W - 2 * M) as string[];
    pdf.text(wrapped, M, y);
    y += 12 * wrapped.length;
  }
  y += 8;
  const cols = [
    { h: "component", w: 100, f: (r: ReturnType<typeof reportRows>[number]) => r.id + (r.bottleneck ? " *" : "") },
    { h: "type", w: 70, f: (r: ReturnType<typeof reportRows>[number]) => r.type },
    { h: "rps", w: 50, f: (r: ReturnType<typeof reportRows>[number]) => fmtNum(r.throughput) },
    { h: "util", w: 45, f: (r: ReturnType<typeof reportRows>[number]) => fmtPct(r.utilization, 0) },
    { h: "util (model)", w: 60, f: (r: ReturnType<typeof reportRows>[number]) => fmtPct(r.analyticUtilization, 0) },
    { h: "mean", w: 55, f: (r: ReturnType<typeof reportRows>[number]) => fmtMs(r.meanMs) },
    { h: "mean (model)", w: 65, f: (r: ReturnType<typeof reportRows>[number]) => fmtMs(r.analyticMeanMs) },
    { h: "p50", w: 50, f: (r: ReturnType<typeof reportRows>[number]) => fmtMs(r.p50) },
    { h: "p99 ±95%", w: 80, f: (r: ReturnType<typeof reportRows>[number]) => `${fmtMs(r.p99)} ±${fmtNum(r.p99Ci)}` },
    { h: "errors", w: 45, f: (r: ReturnType<typeof reportRows>[number]) => fmtNum(r.errors) },
    { h: "dropped", w: 45, f: (r: ReturnType<typeof reportRows>[number]) => fmtNum(r.dropped) },
    { h: "replicas", w: 45, f: (r: ReturnType<typeof reportRows>[number]) => fmtNum(r.replicas) },
    { h: "$/month", w: 50, f: (r: ReturnType<typeof reportRows>[number]) => fmtUsd(r.costMonth) },
  ];
  const header = () => {
    pdf.setFillColor(240, 241, 244);
    pdf.rect(M, y - 9, W - 2 * M, 14, "F");
    pdf.setFont("helvetica", "bold");
    let x = M + 4;
    for (const c of cols) {
      pdf.text(c.h, x, y);
      x += c.w;
    }
    pdf.setFont("helvetica", "normal");
    y += 14;
  };
  header();
  for (const r of reportRows(report)) {
    if (y > H - M) {
      pdf.addPage();
      y = M + 10;
      header();
    }
    let x = M + 4;
    for (const c of cols) {
      pdf.text(String(c.f(r)), x, y);
      x += c.w;
    }
    pdf.setDrawColor(228, 229, 233);
    pdf.line(M, y + 4, W - M, y + 4);
    y += 14;
  }
  return pdf;
}

export function exportPdf(report: Report | null): void {
  const doc = useDesign.getState().toJSON();
  const pdf = buildPdf(doc, report, canvasPng());
  pdf.save(`${safeName(doc.name)}.pdf`);
}

/** Problems with a document before it reaches the server (shape only). */
export function checkDesignShape(v: unknown): string[] {
  const errs: string[] = [];
  if (!v || typeof v !== "object" || Array.isArray(v)) return ["the file is not a JSON object"];
  const d = v as Record<string, unknown>;
  if (d.version !== 1) errs.push("$.version: must be 1");
  if (!Array.isArray(d.components) || d.components.length === 0) {
    errs.push("$.components: must be a non-empty array");
  } else {
    d.components.forEach((c, i) => {
      const cc = c as Record<string, unknown>;
      if (!cc || typeof cc.id !== "string") errs.push(`$.components[${i}].id: missing`);
      if (!cc || typeof cc.type !== "string") errs.push(`$.components[${i}].type: missing`);
    });
  }
  if (d.edges !== undefined && !Array.isArray(d.edges)) errs.push("$.edges: must be an array");
  return errs;
}

export class ImportError extends Error {
  constructor(message: string, public problems: string[]) {
    super(message);
  }
}

/**
 * Read a JSON file, check it (shape here, then POST /api/validate), and replace the design
 * in the store as one undoable change. Throws ImportError listing the problems.
 */
export async function importJsonText(text: string): Promise<Design> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ImportError(`not JSON: ${(e as Error).message}`, []);
  }
  const shape = checkDesignShape(v);
  if (shape.length) throw new ImportError("not a design document", shape);
  try {
    await api("POST", "/api/validate", v);
  } catch (e) {
    if (e instanceof ApiError && e.status === 422) {
      throw new ImportError(
        "the design has problems",
        (e.errors ?? []).map((p) => `${p.path}: ${p.reason}`),
      );
    }
    if (!(e instanceof ApiError && e.status === 0)) throw e;
    // Offline: the shape check has to do; the server validates again on save and run.
  }
  const doc = v as Design;
  useDesign.getState().update((d) => {
    for (const k of Object.keys(d)) delete (d as Record<string, unknown>)[k];
    Object.assign(d, structuredClone(doc));
    if (!Array.isArray(d.edges)) d.edges = [];
  });
  return useDesign.getState().doc;
}

export function pickFile(accept = ".json,application/json"): Promise<File | null> {
  return new Promise((resolve) => {
    const input = document.createElement("input");
    input.type = "file";
    input.accept = accept;
    input.setAttribute("data-testid", "import-file-input");
    input.style.display = "none";
    input.onchange = () => {
      resolve(input.files?.[0] ?? null);
      input.remove();
    };
    document.body.appendChild(input);
    input.click();
  });
}
