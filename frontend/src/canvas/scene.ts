// The canvas's render model: node and edge views built from the design (positions, colours,
// truncated text), plus the geometry the pointer needs (hit tests in world coordinates, so
// the Konva layers never need hit graphs).
import type { ComponentType } from "../api/types";
import type { Design, DesignEdge, EdgeMode } from "../store/design";
import { NODE_H, NODE_W, PORT_R, categoryColor } from "./theme";

export interface NodeView {
  id: string;
  index: number;
  type: string;
  x: number;
  y: number;
  color: string;
  icon: string;
  replicas: number;
  name: string;
  typeText: string;
  unknownType: boolean;
}

export interface EdgeView {
  index: number;
  from: NodeView;
  to: NodeView;
  mode: EdgeMode;
  label: string;
  /** Perpendicular offset so that a->b and b->a do not overlap. */
  offset: number;
}

export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export const NAME_FONT = "600 13px Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif";
export const TYPE_FONT = "11px Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif";
export const LABEL_FONT = "10.5px Inter, system-ui, -apple-system, Segoe UI, Roboto, sans-serif";
const TEXT_W = NODE_W - 52;

let measureCtx: CanvasRenderingContext2D | null | undefined;
const fitCache = new Map<string, string>();
/** The text cut with an ellipsis to fit width px in font (measured once per string). */
export function fitText(text: string, font: string, width: number): string {
  const key = font + "\u0000" + width + "\u0000" + text;
  const hit = fitCache.get(key);
  if (hit !== undefined) return hit;
  if (measureCtx === undefined) {
    try {
      // jsdom (unit tests) has no 2D canvas and says so loudly: estimate there instead.
      measureCtx = /jsdom/i.test(navigator.userAgent) ? null : document.createElement("canvas").getContext("2d");
    } catch {
      measureCtx = null;
    }
  }
  let out = text;
  if (measureCtx) {
    measureCtx.font = font;
    if (measureCtx.measureText(text).width > width) {
      let lo = 0;
      let hi = text.length;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (measureCtx.measureText(text.slice(0, mid) + "…").width <= width) lo = mid;
        else hi = mid - 1;
      }
      out = text.slice(0, lo) + "…";
    }
  } else if (text.length > 18) {
    out = text.slice(0, 17) + "…";
  }
  if (fitCache.size > 20000) fitCache.clear();
  fitCache.set(key, out);
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 100 ? String(Math.round(v)) : String(+v.toPrecision(3)));

export function edgeLabel(e: DesignEdge): string {
  const parts: string[] = [];
  if (typeof e.p === "number" && e.p !== 1) parts.push(`p ${fmt(e.p)}`);
  if (typeof e.latency_ms === "number" && e.latency_ms > 0) parts.push(`${fmt(e.latency_ms)} ms`);
  if (typeof e.retries === "number" && e.retries > 0) parts.push(`↻${e.retries}`);
  if (e.breaker) parts.push("⚡");
  return parts.join(" · ");
}

export class Scene {
  nodes: NodeView[] = [];
  byId = new Map<string, NodeView>();
  edges: EdgeView[] = [];
  edgeByIndex = new Map<number, EdgeView>();

  static build(doc: Design, catalog: Record<string, ComponentType>): Scene {
    const s = new Scene();
    doc.components.forEach((c, index) => {
      const t = catalog[c.type];
      const name = typeof c.label === "string" && c.label ? c.label : c.id;
      const replicas = typeof c.replicas === "number" ? c.replicas : (t?.defaults?.replicas ?? 1);
      const typeText = (t?.label ?? c.type) + (replicas > 1 ? `  ×${replicas}` : "");
      const n: NodeView = {
        id: c.id,
        index,
        type: c.type,
        x: typeof c.x === "number" ? c.x : 0,
        y: typeof c.y === "number" ? c.y : 0,
        color: categoryColor(t?.category),
        icon: t?.icon ?? "box",
        replicas,
        name: fitText(name, NAME_FONT, TEXT_W),
        typeText: fitText(typeText, TYPE_FONT, TEXT_W),
        unknownType: Object.keys(catalog).length > 0 && !t,
      };
      s.nodes.push(n);
      s.byId.set(c.id, n);
    });
    const pairs = new Set(doc.edges.map((e) => e.from + "\u0000" + e.to));
    doc.edges.forEach((e, index) => {
      const from = s.byId.get(e.from);
      const to = s.byId.get(e.to);
      if (!from || !to || from === to) return;
      const v: EdgeView = {
        index,
        from,
        to,
        mode: e.mode === "forward" || e.mode === "async" ? e.mode : "call",
        label: edgeLabel(e),
        offset: pairs.has(e.to + "\u0000" + e.from) ? 7 : 0,
      };
      s.edges.push(v);
      s.edgeByIndex.set(index, v);
    });
    return s;
  }

  /** Topmost node whose box contains the point. */
  hitNode(wx: number, wy: number): NodeView | null {
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      if (Math.abs(wx - n.x) <= NODE_W / 2 && Math.abs(wy - n.y) <= NODE_H / 2) return n;
    }
    return null;
  }

  /** A node whose output port (right middle) is under the point. */
  hitPort(wx: number, wy: number, scale: number): NodeView | null {
    const r = Math.max(PORT_R + 4, 9 / scale);
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i];
      const px = n.x + NODE_W / 2;
      if ((wx - px) ** 2 + (wy - n.y) ** 2 <= r * r) return n;
    }
    return null;
  }

  hitEdge(wx: number, wy: number, tol: number): EdgeView | null {
    let best: EdgeView | null = null;
    let bestD = tol * tol;
    for (const e of this.edges) {
      const [x1, y1, x2, y2] = edgeEnds(e);
      const d = segDist2(wx, wy, x1, y1, x2, y2);
      if (d <= bestD) {
        bestD = d;
        best = e;
      }
    }
    return best;
  }

  /** Ids of the nodes that intersect a world rectangle. */
  nodesIn(r: Rect): string[] {
    const out: string[] = [];
    for (const n of this.nodes) {
      if (n.x + NODE_W / 2 >= r.x && n.x - NODE_W / 2 <= r.x + r.w &&
          n.y + NODE_H / 2 >= r.y && n.y - NODE_H / 2 <= r.y + r.h) out.push(n.id);
    }
    return out;
  }

  bounds(): Rect | null {
    if (this.nodes.length === 0) return null;
    let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    for (const n of this.nodes) {
      x0 = Math.min(x0, n.x - NODE_W / 2);
      y0 = Math.min(y0, n.y - NODE_H / 2);
      x1 = Math.max(x1, n.x + NODE_W / 2);
      y1 = Math.max(y1, n.y + NODE_H / 2);
    }
    return { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
  }
}

/** Where an edge leaves its source box and meets its target box (world coordinates). */
export function edgeEnds(e: EdgeView): [number, number, number, number] {
  let ax = e.from.x, ay = e.from.y, bx = e.to.x, by = e.to.y;
  const dx = bx - ax, dy = by - ay;
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len, uy = dy / len;
  if (e.offset) {
    ax += -uy * e.offset; ay += ux * e.offset;
    bx += -uy * e.offset; by += ux * e.offset;
  }
  const hw = NODE_W / 2 + 2, hh = NODE_H / 2 + 2;
  const t = Math.min(ux ? hw / Math.abs(ux) : Infinity, uy ? hh / Math.abs(uy) : Infinity);
  const t2 = Math.min(t, len / 2);
  return [ax + ux * t2, ay + uy * t2, bx - ux * t2, by - uy * t2];
}

function segDist2(px: number, py: number, x1: number, y1: number, x2: number, y2: number) {
  const dx = x2 - x1, dy = y2 - y1;
  const l2 = dx * dx + dy * dy;
  let t = l2 ? ((px - x1) * dx + (py - y1) * dy) / l2 : 0;
  t = Math.max(0, Math.min(1, t));
  const cx = x1 + t * dx, cy = y1 + t * dy;
  return (px - cx) ** 2 + (py - cy) ** 2;
}

/**
 * Positions for components that have none: columns by distance from where traffic enters
 * (workload targets, else components nobody calls), rows in design order.
 */
export function autoLayout(doc: Design): boolean {
  const missing = doc.components.filter((c) => typeof c.x !== "number" || typeof c.y !== "number");
  if (missing.length === 0) return false;
  const out = new Map<string, string[]>();
  const indeg = new Map<string, number>();
  for (const c of doc.components) { out.set(c.id, []); indeg.set(c.id, 0); }
  for (const e of doc.edges) {
    if (!out.has(e.from) || !out.has(e.to)) continue;
    out.get(e.from)!.push(e.to);
    indeg.set(e.to, (indeg.get(e.to) ?? 0) + 1);
  }
  const roots = new Set<string>((doc.workload ?? []).map((w) => w.to).filter((id) => out.has(id)));
  for (const c of doc.components) if (indeg.get(c.id) === 0) roots.add(c.id);
  if (roots.size === 0 && doc.components.length) roots.add(doc.components[0].id);
  const depth = new Map<string, number>();
  const queue = [...roots];
  for (const r of queue) depth.set(r, 0);
  while (queue.length) {
    const id = queue.shift()!;
    for (const to of out.get(id)!) {
      if (!depth.has(to)) { depth.set(to, depth.get(id)! + 1); queue.push(to); }
    }
  }
  const rows = new Map<number, number>();
  for (const c of doc.components) {
    if (typeof c.x === "number" && typeof c.y === "number") continue;
    const d = depth.get(c.id) ?? 0;
    const r = rows.get(d) ?? 0;
    rows.set(d, r + 1);
    c.x = 100 + d * 200;
    c.y = 100 + r * 100;
  }
  return true;
}

/** A generated design for the canvas benchmark: n components on a grid, m edges, acyclic calls. */
export function generateLargeDesign(n: number, m: number): Design {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const types = ["service", "database", "cache", "queue", "load_balancer", "service", "worker_pool", "cdn"];
  const cols = Math.ceil(Math.sqrt(n * 2));
  const components = Array.from({ length: n }, (_, i) => ({
    id: `c${i}`,
    type: types[i % types.length],
    x: 100 + (i % cols) * 200,
    y: 100 + Math.floor(i / cols) * 120,
  }));
  const edges: DesignEdge[] = [];
  const seen = new Set<string>();
  const add = (a: number, b: number) => {
    const k = a + ":" + b;
    if (a === b || seen.has(k) || edges.length >= m) return;
    seen.add(k);
    const r = rnd();
    const e: DesignEdge = { from: `c${a}`, to: `c${b}` };
    if (r < 0.2) { e.mode = "async"; e.p = 0.1; } else if (r < 0.35) { e.mode = "forward"; e.p = 0.2; }
    if (rnd() < 0.5) e.latency_ms = Math.round(rnd() * 20) / 10;
    edges.push(e);
  };
  for (let i = 0; i + 1 < n && edges.length < m; i++) if ((i + 1) % cols) add(i, i + 1);
  let guard = 0;
  while (edges.length < m && guard++ < m * 20) {
    const a = Math.floor(rnd() * (n - 1));
    const b = Math.min(n - 1, a + 1 + Math.floor(rnd() * cols * 1.5)); // from < to: no call cycles
    add(a, b);
  }
  return { version: 1, name: `large-${n}x${m}`, components, edges, workload: [{ to: "c0", rps: 100 }] };
}
