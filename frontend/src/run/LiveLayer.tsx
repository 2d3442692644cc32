// The live layer the editor mounts inside its Konva <Stage> (see the contract in overlay.ts):
// utilization ring and tint per component, queue bar, error flash, DOWN state, bottleneck
// badge, per-edge rate labels and moving dots for sampled requests. Everything is drawn by one
// non-listening Konva.Shape from a requestAnimationFrame loop that reads the overlay and the
// latest frame imperatively: frames never re-render React.
import { useEffect, useRef } from "react";
import { Layer, Shape } from "react-konva";
import type Konva from "konva";
import type { Frame } from "../gen/sdsim_pb";
import { getOverlay, onFrame, utilColor, type LiveOverlay } from "./overlay";

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LiveLayerProps {
  /** The node's box in stage coordinates, or null when it is not drawn. */
  rectOf: (componentId: string) => Rect | null;
  /** Optional [x1, y1, x2, y2] of an edge's visible line (default: border to border). */
  edgePoints?: (edgeIndex: number) => number[] | null;
}

interface Dot {
  edge: number;
  born: number; // wall ms when it left the source
  ok: boolean;
}

const TRAVEL_MS = 900; // wall time a dot takes along an edge
const MAX_DOTS = 600;

/** Where the segment from the centre of r towards (tx, ty) leaves r. */
export function borderPoint(r: Rect, tx: number, ty: number): [number, number] {
  const cx = r.x + r.width / 2;
  const cy = r.y + r.height / 2;
  const dx = tx - cx;
  const dy = ty - cy;
  if (dx === 0 && dy === 0) return [cx, cy];
  const sx = dx !== 0 ? r.width / 2 / Math.abs(dx) : Infinity;
  const sy = dy !== 0 ? r.height / 2 / Math.abs(dy) : Infinity;
  const s = Math.min(sx, sy, 1);
  return [cx + dx * s, cy + dy * s];
}

/** Rate as people read it: 1.2k/s, 35/s, 0.4/s. */
export function fmtRate(r: number): string {
  if (!(r > 0)) return "0/s";
  if (r >= 1e6) return `${(r / 1e6).toFixed(1)}M/s`;
  if (r >= 1e3) return `${(r / 1e3).toFixed(r >= 1e4 ? 0 : 1)}k/s`;
  if (r >= 10) return `${Math.round(r)}/s`;
  return `${r.toFixed(1)}/s`;
}

export function LiveLayer({ rectOf, edgePoints }: LiveLayerProps) {
  const shapeRef = useRef<Konva.Shape>(null);
  const props = useRef({ rectOf, edgePoints });
  props.current = { rectOf, edgePoints };
  const dots = useRef<Dot[]>([]);
  const flash = useRef<Map<string, number>>(new Map()); // component id -> wall ms of last error
  const lastSpawn = useRef<Map<number, number>>(new Map());

  useEffect(() => {
    // Frames feed the dots and error flashes.
    const off = onFrame((f: Frame) => addFrame(f, dots.current, flash.current));
    let raf = 0;
    let last = 0;
    const tick = (t: number) => {
      raf = requestAnimationFrame(tick);
      if (t - last < 30) return; // ~30 Hz is plenty and spares the CPU
      last = t;
      const ov = getOverlay();
      if (!ov.active && dots.current.length === 0) {
        // Nothing live: clear once, then stay idle.
        if (shapeRef.current?.visible()) {
          shapeRef.current.visible(false);
          shapeRef.current.getLayer()?.batchDraw();
        }
        return;
      }
      if (ov.running && !framesHaveHops) synthDots(ov, dots.current, lastSpawn.current, performance.now());
      shapeRef.current?.visible(true);
      shapeRef.current?.getLayer()?.batchDraw();
    };
    raf = requestAnimationFrame(tick);
    return () => {
      off();
      cancelAnimationFrame(raf);
    };
  }, []);

  return (
    <Layer listening={false}>
      <Shape
        ref={shapeRef}
        listening={false}
        perfectDrawEnabled={false}
        sceneFunc={(con) => {
          const ctx = con._context;
          const now = performance.now();
          const ov = getOverlay();
          const { rectOf: rof, edgePoints: ep } = props.current;
          drawEdges(ctx, ov, rof, ep, dots.current, now);
          drawComponents(ctx, ov, rof, flash.current, now);
        }}
      />
    </Layer>
  );
}

let framesHaveHops = false;
const accepted = new Map<number, number>(); // edge -> wall ms of its last dot

/** Dots per wall second for an edge carrying `rate` requests/s: 1 at 1/s, ~11 at 10k/s. */
export function visualRate(rate: number): number {
  return Math.min(12, 1 + 2.5 * Math.log10(1 + Math.max(0, rate)));
}

function addFrame(f: Frame, dots: Dot[], flash: Map<string, number>) {
  framesHaveHops = f.hops.length > 0;
  const now = performance.now();
  const ov = getOverlay();
  const speed = f.speed > 0 ? f.speed : 50;
  for (const h of f.hops) {
    // Dots at a visual rate that grows with the edge's real rate (a log scale: 10k/s cannot
    // be drawn); failed hops always show.
    const rate = ov.edges[h.edge]?.rate ?? f.edges.find((e) => e.index === h.edge)?.rate ?? 1;
    const gap = 1000 / visualRate(rate);
    const last = accepted.get(h.edge) ?? -1e9;
    if (h.ok && now - last < gap) continue;
    accepted.set(h.edge, now);
    const ago = Math.min(TRAVEL_MS, (h.at / speed) * 1000);
    dots.push({ edge: h.edge, born: now - ago, ok: h.ok });
  }
  if (dots.length > MAX_DOTS) dots.splice(0, dots.length - MAX_DOTS);
  for (const c of ov.components) if (c.erroring || c.down) flash.set(c.id, now);
}

/** Frames without sampled hops: dots at a visual rate that grows with the real rate. */
function synthDots(ov: LiveOverlay, dots: Dot[], lastSpawn: Map<number, number>, now: number) {
  for (const e of ov.edges) {
    if (!(e.rate > 0) || e.partitioned) continue;
    const perSec = visualRate(e.rate);
    const prev = lastSpawn.get(e.index) ?? 0;
    if (now - prev < 1000 / perSec) continue;
    lastSpawn.set(e.index, now);
    const okShare = e.rate > 0 ? 1 - Math.min(1, e.errorRate / e.rate) : 1;
    dots.push({ edge: e.index, born: now, ok: Math.random() < okShare });
  }
  if (dots.length > MAX_DOTS) dots.splice(0, dots.length - MAX_DOTS);
}

function edgeLine(
  ov: LiveOverlay,
  i: number,
  rof: LiveLayerProps["rectOf"],
  ep: LiveLayerProps["edgePoints"],
): number[] | null {
  const custom = ep?.(i);
  if (custom) return custom;
  const e = ov.edges[i];
  if (!e) return null;
  const a = rof(e.from);
  const b = rof(e.to);
  if (!a || !b) return null;
  const [x1, y1] = borderPoint(a, b.x + b.width / 2, b.y + b.height / 2);
  const [x2, y2] = borderPoint(b, a.x + a.width / 2, a.y + a.height / 2);
  return [x1, y1, x2, y2];
}

function drawEdges(
  ctx: CanvasRenderingContext2D,
  ov: LiveOverlay,
  rof: LiveLayerProps["rectOf"],
  ep: LiveLayerProps["edgePoints"],
  dots: Dot[],
  now: number,
) {
  ctx.save();
  ctx.font = "600 10px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (const e of ov.edges) {
    const l = edgeLine(ov, e.index, rof, ep);
    if (!l) continue;
    const [x1, y1, x2, y2] = l;
    if (e.partitioned) {
      ctx.strokeStyle = "#d93636";
      ctx.lineWidth = 2;
      ctx.setLineDash([6, 4]);
      ctx.beginPath();
      ctx.moveTo(x1, y1);
      ctx.lineTo(x2, y2);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    const failing = e.rate > 0 && e.errorRate / e.rate > 0.01;
    const label = e.partitioned ? "partitioned" : e.breaker === 1 ? "breaker open"
      : failing ? `${fmtRate(e.errorRate)} fail` : fmtRate(e.rate);
    // Beside the middle of the edge (the editor writes its own label on the middle).
    const len = Math.hypot(x2 - x1, y2 - y1) || 1;
    let nx = -(y2 - y1) / len;
    let ny = (x2 - x1) / len;
    if (ny > 0) {
      nx = -nx;
      ny = -ny;
    }
    const w = ctx.measureText(label).width + 10;
    // A short edge between neighbours: lift the label clear of the nodes.
    const off = len < w + 40 ? 36 : 15;
    const mx = (x1 + x2) / 2 + nx * off;
    const my = (y1 + y2) / 2 + ny * off;
    const bad = e.partitioned || failing || e.breaker === 1;
    ctx.fillStyle = bad ? "#fdecec" : "#ffffffe6";
    ctx.strokeStyle = bad ? "#d93636" : "#c9d1de";
    ctx.lineWidth = 1;
    roundRect(ctx, mx - w / 2, my - 8, w, 16, 8);
    ctx.fill();
    ctx.stroke();
    ctx.fillStyle = bad ? "#b42318" : "#344054";
    ctx.fillText(label, mx, my + 0.5);
  }
  // Moving dots; finished ones are dropped.
  let keep = 0;
  for (let i = 0; i < dots.length; i++) {
    const d = dots[i];
    const t = (now - d.born) / TRAVEL_MS;
    if (t > 1) continue;
    dots[keep++] = d;
    if (t < 0) continue;
    const l = edgeLine(ov, d.edge, rof, ep);
    if (!l) continue;
    const x = l[0] + (l[2] - l[0]) * t;
    const y = l[1] + (l[3] - l[1]) * t;
    ctx.beginPath();
    ctx.arc(x, y, d.ok ? 3 : 3.5, 0, Math.PI * 2);
    ctx.fillStyle = d.ok ? "#2f6fed" : "#e02d2d";
    ctx.fill();
  }
  dots.length = keep;
  ctx.restore();
}

function drawComponents(
  ctx: CanvasRenderingContext2D,
  ov: LiveOverlay,
  rof: LiveLayerProps["rectOf"],
  flash: Map<string, number>,
  now: number,
) {
  ctx.save();
  for (const c of ov.components) {
    const r = rof(c.id);
    if (!r) continue;
    const col = c.down ? "#667085" : utilColor(c.utilization);
    // Tint and ring: the colour says how busy it is.
    ctx.globalAlpha = 0.12;
    ctx.fillStyle = col;
    roundRect(ctx, r.x - 3, r.y - 3, r.width + 6, r.height + 6, 10);
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.lineWidth = 3;
    ctx.strokeStyle = col;
    ctx.stroke();
    // Error flash: a red glow that fades over 600 ms after errors grew.
    const since = now - (flash.get(c.id) ?? -1e9);
    if (since < 600 && !c.down) {
      ctx.globalAlpha = 1 - since / 600;
      ctx.lineWidth = 6;
      ctx.strokeStyle = "#ff3b3b";
      roundRect(ctx, r.x - 7, r.y - 7, r.width + 14, r.height + 14, 12);
      ctx.stroke();
      ctx.globalAlpha = 1;
    }
    if (c.down) {
      ctx.globalAlpha = 0.55;
      ctx.fillStyle = "#344054";
      roundRect(ctx, r.x, r.y, r.width, r.height, 8);
      ctx.fill();
      ctx.globalAlpha = 1;
      pill(ctx, r.x + r.width / 2, r.y - 12, "✕ DOWN", "#b42318", "#fff");
    }
    // Utilization figure and queue bar below the node.
    const barW = r.width;
    const by = r.y + r.height + 6;
    ctx.fillStyle = "#e4e7ec";
    roundRect(ctx, r.x, by, barW, 5, 2.5);
    ctx.fill();
    ctx.fillStyle = col;
    roundRect(ctx, r.x, by, barW * Math.max(0, Math.min(1, c.utilization)), 5, 2.5);
    ctx.fill();
    if (c.queue > 0.05) {
      // Queue length on a log scale: 1 waiting is a sliver, 1000 fills the bar.
      const q = Math.min(1, Math.log10(1 + c.queue) / 3);
      ctx.fillStyle = "#e4e7ec";
      roundRect(ctx, r.x, by + 7, barW, 4, 2);
      ctx.fill();
      ctx.fillStyle = "#7a5af8";
      roundRect(ctx, r.x, by + 7, Math.max(3, barW * q), 4, 2);
      ctx.fill();
    }
    ctx.font = "600 10px system-ui, sans-serif";
    ctx.textAlign = "left";
    ctx.textBaseline = "top";
    const qtxt = c.queue > 0.05 ? ` · q ${c.queue < 10 ? c.queue.toFixed(1) : Math.round(c.queue)}` : "";
    const stats = `${Math.round(c.utilization * 100)}%${qtxt} · ${fmtRate(c.throughput)}`;
    // A light backing keeps the figures readable over edges and their labels.
    ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
    roundRect(ctx, r.x - 2, by + 11, ctx.measureText(stats).width + 4, 13, 3);
    ctx.fill();
    ctx.fillStyle = "#344054";
    ctx.fillText(stats, r.x, by + 13);
    if (c.bottleneck && !c.down) {
      // With the analytic saturation rate: how far it can go before it tips over.
      const sat = c.saturationRps;
      pill(ctx, r.x + r.width / 2, r.y - 12,
        sat ? `⚠ bottleneck · max ${fmtRate(sat)}` : "⚠ bottleneck", "#d93636", "#fff");
    }
  }
  ctx.restore();
}

function pill(ctx: CanvasRenderingContext2D, cx: number, cy: number, text: string,
              bg: string, fg: string) {
  ctx.font = "700 10px system-ui, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  const w = ctx.measureText(text).width + 12;
  ctx.fillStyle = bg;
  roundRect(ctx, cx - w / 2, cy - 8, w, 16, 8);
  ctx.fill();
  ctx.fillStyle = fg;
  ctx.fillText(text, cx, cy + 0.5);
}

function roundRect(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number,
                   r: number) {
  const rr = Math.max(0, Math.min(r, w / 2, h / 2));
  ctx.beginPath();
  ctx.moveTo(x + rr, y);
  ctx.arcTo(x + w, y, x + w, y + h, rr);
  ctx.arcTo(x + w, y + h, x, y + h, rr);
  ctx.arcTo(x, y + h, x, y, rr);
  ctx.arcTo(x, y, x + w, y, rr);
  ctx.closePath();
}
