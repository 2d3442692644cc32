// Drawing of the graph on the layers' 2D contexts, in world coordinates (the stage carries
// the pan/zoom transform). Everything of one style is drawn in one path, nodes outside the
// viewport are skipped, and text is left out when zoomed far out (it would not be legible),
// so that a thousand components and fifteen hundred edges stay within a frame.
import { type EdgeView, type NodeView, type Rect, LABEL_FONT, NAME_FONT, TYPE_FONT, edgeEnds } from "./scene";
import type { Scene } from "./scene";
import { ACCENT, NODE_H, NODE_W, PORT_R, iconPath2D } from "./theme";

export interface DrawState {
  scene: Scene;
  selected: Set<string>;
  selectedEdges: Set<number>;
  hover: string | null;
  hoverPort: string | null;
  errorNodes: Set<number>;
  errorEdges: Set<number>;
  /** A run's live layer is labelling the edges. */
  hideEdgeLabels?: boolean;
}

/** Below this zoom nodes are plain boxes; below LABEL_SCALE edge labels are left out. */
export const DETAIL_SCALE = 0.45;
const LABEL_SCALE = 0.7;
const EDGE_COLOR = "#8b95a5";
const ERROR = "#dc2626";

const inView = (n: NodeView, v: Rect) =>
  n.x + NODE_W / 2 >= v.x && n.x - NODE_W / 2 <= v.x + v.w &&
  n.y + NODE_H / 2 >= v.y && n.y - NODE_H / 2 <= v.y + v.h;

function edgeInView(x1: number, y1: number, x2: number, y2: number, v: Rect) {
  return Math.max(x1, x2) >= v.x && Math.min(x1, x2) <= v.x + v.w &&
    Math.max(y1, y2) >= v.y && Math.min(y1, y2) <= v.y + v.h;
}

function roundRect(ctx: CanvasRenderingContext2D, x: number, y: number, w: number, h: number, r: number) {
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

const DASH: Record<string, number[]> = { call: [], forward: [7, 5], async: [2, 4] };

/**
 * The part of a segment inside a rectangle, as parameters [t0, t1] of the segment (Liang-Barsky),
 * or null. Long edges are stroked only where visible: dashing a line thousands of pixels long
 * costs the rasterizer far more than the script.
 */
export function clipSegment(x1: number, y1: number, x2: number, y2: number, r: Rect): [number, number] | null {
  let t0 = 0, t1 = 1;
  const dx = x2 - x1, dy = y2 - y1;
  const p = [-dx, dx, -dy, dy];
  const q = [x1 - r.x, r.x + r.w - x1, y1 - r.y, r.y + r.h - y1];
  for (let i = 0; i < 4; i++) {
    if (p[i] === 0) {
      if (q[i] < 0) return null;
    } else {
      const t = q[i] / p[i];
      if (p[i] < 0) { if (t > t1) return null; if (t > t0) t0 = t; }
      else { if (t < t0) return null; if (t < t1) t1 = t; }
    }
  }
  return [t0, t1];
}

function arrowHead(ctx: CanvasRenderingContext2D, x1: number, y1: number, x2: number, y2: number, size: number) {
  const a = Math.atan2(y2 - y1, x2 - x1);
  ctx.moveTo(x2, y2);
  ctx.lineTo(x2 - size * Math.cos(a - 0.45), y2 - size * Math.sin(a - 0.45));
  ctx.lineTo(x2 - size * Math.cos(a + 0.45), y2 - size * Math.sin(a + 0.45));
  ctx.closePath();
}

/** Grid dots every 20 px (coarser when zoomed out), drawn in one path. */
export function drawGrid(ctx: CanvasRenderingContext2D, scale: number, vis: Rect) {
  if (scale < 0.25) return;
  let step = 20;
  while (step * scale < 18) step *= 2;
  const r = 1.1 / scale;
  const x0 = Math.floor(vis.x / step) * step, y0 = Math.floor(vis.y / step) * step;
  ctx.fillStyle = "#d3d7de";
  ctx.beginPath();
  for (let x = x0; x <= vis.x + vis.w; x += step) {
    for (let y = y0; y <= vis.y + vis.h; y += step) ctx.rect(x - r, y - r, 2 * r, 2 * r);
  }
  ctx.fill();
}

export function drawEdges(ctx: CanvasRenderingContext2D, st: DrawState, scale: number, vis: Rect) {
  const lw = Math.max(1.4, 1 / scale);
  const head = Math.max(8, 4 / scale);
  const visible: Array<[EdgeView, number, number, number, number]> = [];
  for (const e of st.scene.edges) {
    const [x1, y1, x2, y2] = edgeEnds(e);
    if (edgeInView(x1, y1, x2, y2, vis)) visible.push([e, x1, y1, x2, y2]);
  }
  ctx.lineWidth = lw;
  ctx.lineCap = "round";
  const margin = 20 / scale;
  const clipR = { x: vis.x - margin, y: vis.y - margin, w: vis.w + 2 * margin, h: vis.h + 2 * margin };
  for (const mode of ["call", "forward", "async"] as const) {
    // Far out the dashes would be a few pixels each: too fine to read, slow to rasterize.
    const far = scale < DETAIL_SCALE;
    const dash = far ? [] : DASH[mode].map((d) => d * Math.max(1, lw / 1.4));
    ctx.globalAlpha = far && mode !== "call" ? 0.55 : 1;
    const period = dash.reduce((a, b) => a + b, 0);
    ctx.setLineDash(dash);
    ctx.strokeStyle = EDGE_COLOR;
    ctx.beginPath();
    for (const [e, x1, y1, x2, y2] of visible) {
      if (e.mode !== mode) continue;
      const c = clipSegment(x1, y1, x2, y2, clipR);
      if (!c) continue;
      let [t0] = c;
      const t1 = c[1];
      if (period > 0 && t0 > 0) {
        // Start the visible part on a whole dash period so the dashes do not crawl when panning.
        const len = Math.hypot(x2 - x1, y2 - y1);
        t0 = (Math.floor((t0 * len) / period) * period) / len;
      }
      ctx.moveTo(x1 + (x2 - x1) * t0, y1 + (y2 - y1) * t0);
      ctx.lineTo(x1 + (x2 - x1) * t1, y1 + (y2 - y1) * t1);
    }
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  ctx.setLineDash([]);
  if (scale >= 0.2) { // farther out the heads are specks
    ctx.fillStyle = EDGE_COLOR;
    ctx.beginPath();
    for (const [, x1, y1, x2, y2] of visible) arrowHead(ctx, x1, y1, x2, y2, head);
    ctx.fill();
  }
  // Selected and invalid edges again, on top, in colour.
  for (const [e, x1, y1, x2, y2] of visible) {
    const sel = st.selectedEdges.has(e.index);
    const bad = st.errorEdges.has(e.index);
    if (!sel && !bad) continue;
    const c = sel ? ACCENT : ERROR;
    ctx.strokeStyle = c;
    ctx.fillStyle = c;
    ctx.lineWidth = lw * 1.8;
    ctx.setLineDash(DASH[e.mode].map((d) => d * Math.max(1, lw / 1.4)));
    ctx.beginPath();
    ctx.moveTo(x1, y1);
    ctx.lineTo(x2, y2);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.beginPath();
    arrowHead(ctx, x1, y1, x2, y2, head * 1.15);
    ctx.fill();
  }
  if (scale < LABEL_SCALE || st.hideEdgeLabels) return;
  ctx.font = LABEL_FONT;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  for (const [e, x1, y1, x2, y2] of visible) {
    if (!e.label) continue;
    const mx = (x1 + x2) / 2, my = (y1 + y2) / 2;
    const w = ctx.measureText(e.label).width + 10;
    // A label that does not fit beside the line's visible part would cover the cards.
    if (Math.hypot(x2 - x1, y2 - y1) < w + 16 && Math.abs(y2 - y1) < 24) continue;
    ctx.fillStyle = "rgba(255,255,255,0.92)";
    ctx.beginPath();
    roundRect(ctx, mx - w / 2, my - 8, w, 16, 8);
    ctx.fill();
    ctx.fillStyle = st.selectedEdges.has(e.index) ? ACCENT : "#4b5563";
    ctx.fillText(e.label, mx, my + 0.5);
  }
}

export function drawNodes(ctx: CanvasRenderingContext2D, st: DrawState, scale: number, vis: Rect) {
  const nodes = st.scene.nodes.filter((n) => inView(n, vis));
  const hw = NODE_W / 2, hh = NODE_H / 2;
  if (scale < DETAIL_SCALE) {
    // Far out: coloured boxes only, one path per colour.
    const byColor = new Map<string, NodeView[]>();
    for (const n of nodes) {
      const list = byColor.get(n.color);
      if (list) list.push(n);
      else byColor.set(n.color, [n]);
    }
    for (const [color, list] of byColor) {
      ctx.fillStyle = color;
      ctx.beginPath();
      for (const n of list) ctx.rect(n.x - hw, n.y - hh, NODE_W, NODE_H);
      ctx.fill();
    }
    const sel = nodes.filter((n) => st.selected.has(n.id));
    if (sel.length) {
      ctx.strokeStyle = ACCENT;
      ctx.lineWidth = 3 / scale;
      ctx.beginPath();
      for (const n of sel) ctx.rect(n.x - hw, n.y - hh, NODE_W, NODE_H);
      ctx.stroke();
    }
    return;
  }
  // Soft shadow, then the cards.
  ctx.fillStyle = "rgba(15,23,42,0.06)";
  ctx.beginPath();
  for (const n of nodes) roundRect(ctx, n.x - hw, n.y - hh + 2, NODE_W, NODE_H, 8);
  ctx.fill();
  ctx.fillStyle = "#ffffff";
  ctx.strokeStyle = "#d5dae1";
  ctx.lineWidth = 1;
  ctx.beginPath();
  for (const n of nodes) roundRect(ctx, n.x - hw, n.y - hh, NODE_W, NODE_H, 8);
  ctx.fill();
  ctx.stroke();
  // Icon tiles.
  for (const n of nodes) {
    ctx.globalAlpha = 0.12;
    ctx.fillStyle = n.color;
    ctx.beginPath();
    roundRect(ctx, n.x - hw + 9, n.y - 17, 34, 34, 7);
    ctx.fill();
    ctx.globalAlpha = 1;
  }
  ctx.lineWidth = 2;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  for (const n of nodes) {
    const p = iconPath2D(n.icon);
    if (!p) continue;
    ctx.save();
    ctx.translate(n.x - hw + 16, n.y - 10);
    ctx.scale(20 / 24, 20 / 24);
    ctx.strokeStyle = n.color;
    ctx.stroke(p);
    ctx.restore();
  }
  // Text (canvas text: user names are never interpreted as markup).
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  ctx.font = NAME_FONT;
  ctx.fillStyle = "#111827";
  for (const n of nodes) ctx.fillText(n.name, n.x - hw + 52, n.y - 2);
  ctx.font = TYPE_FONT;
  ctx.fillStyle = "#6b7280";
  for (const n of nodes) ctx.fillText(n.typeText, n.x - hw + 52, n.y + 14);
  // Output ports.
  ctx.lineWidth = 1.5;
  for (const n of nodes) {
    const hot = st.hoverPort === n.id;
    ctx.fillStyle = hot ? ACCENT : "#ffffff";
    ctx.strokeStyle = hot || st.hover === n.id || st.selected.has(n.id) ? ACCENT : "#9aa3af";
    ctx.beginPath();
    ctx.arc(n.x + hw, n.y, hot ? PORT_R + 1.5 : PORT_R, 0, Math.PI * 2);
    ctx.fill();
    ctx.stroke();
  }
  // Selection, hover and problems.
  for (const n of nodes) {
    const sel = st.selected.has(n.id);
    const bad = st.errorNodes.has(n.index) || n.unknownType;
    if (!sel && !bad && st.hover !== n.id) continue;
    ctx.strokeStyle = sel ? ACCENT : bad ? ERROR : "#aeb0ec";
    ctx.lineWidth = sel ? 2 : 1.5;
    ctx.beginPath();
    roundRect(ctx, n.x - hw - (sel ? 1 : 0), n.y - hh - (sel ? 1 : 0), NODE_W + (sel ? 2 : 0), NODE_H + (sel ? 2 : 0), 9);
    ctx.stroke();
    if (bad) {
      ctx.fillStyle = ERROR;
      ctx.beginPath();
      ctx.arc(n.x + hw - 9, n.y - hh + 9, 4, 0, Math.PI * 2);
      ctx.fill();
    }
  }
}

export interface InteractionState {
  box: Rect | null;
  connect: { from: NodeView; x: number; y: number; target: NodeView | null } | null;
  drop: { x: number; y: number } | null;
}

export function drawInteraction(ctx: CanvasRenderingContext2D, it: InteractionState, scale: number) {
  if (it.box) {
    ctx.fillStyle = "rgba(91,91,214,0.08)";
    ctx.strokeStyle = ACCENT;
    ctx.lineWidth = 1 / scale;
    ctx.fillRect(it.box.x, it.box.y, it.box.w, it.box.h);
    ctx.strokeRect(it.box.x, it.box.y, it.box.w, it.box.h);
  }
  if (it.connect) {
    const c = it.connect;
    const sx = c.from.x + NODE_W / 2, sy = c.from.y;
    let tx = c.x, ty = c.y;
    if (c.target) {
      tx = c.target.x - NODE_W / 2;
      ty = c.target.y;
      ctx.strokeStyle = ACCENT;
      ctx.lineWidth = 2 / scale;
      ctx.beginPath();
      roundRect(ctx, c.target.x - NODE_W / 2 - 2, c.target.y - NODE_H / 2 - 2, NODE_W + 4, NODE_H + 4, 10);
      ctx.stroke();
    }
    ctx.strokeStyle = ACCENT;
    ctx.lineWidth = 2 / scale;
    ctx.setLineDash([6 / scale, 4 / scale]);
    ctx.beginPath();
    ctx.moveTo(sx, sy);
    ctx.bezierCurveTo(sx + 60, sy, tx - 60, ty, tx, ty);
    ctx.stroke();
    ctx.setLineDash([]);
  }
  if (it.drop) {
    ctx.strokeStyle = ACCENT;
    ctx.setLineDash([5 / scale, 4 / scale]);
    ctx.lineWidth = 1.5 / scale;
    ctx.beginPath();
    roundRect(ctx, it.drop.x - NODE_W / 2, it.drop.y - NODE_H / 2, NODE_W, NODE_H, 8);
    ctx.stroke();
    ctx.setLineDash([]);
  }
}
