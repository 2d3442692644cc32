// The canvas viewport (pan and zoom) lives outside React: pointer and wheel handlers change
// it and the Konva stage follows at once, with no component re-render per frame.
import type { Rect } from "./scene";

export interface View {
  x: number; // screen = world * scale + (x, y)
  y: number;
  scale: number;
}

export const MIN_SCALE = 0.05;
export const MAX_SCALE = 4;

type Listener = (v: View) => void;
const listeners = new Set<Listener>();
export const view: View = { x: 0, y: 0, scale: 1 };
export const viewport = { width: 800, height: 600 };

export function onView(fn: Listener): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

export function setView(v: Partial<View>) {
  if (v.scale !== undefined) v.scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, v.scale));
  Object.assign(view, v);
  listeners.forEach((l) => l(view));
}

export const toWorld = (sx: number, sy: number) => ({
  x: (sx - view.x) / view.scale,
  y: (sy - view.y) / view.scale,
});
export const toScreen = (wx: number, wy: number) => ({
  x: wx * view.scale + view.x,
  y: wy * view.scale + view.y,
});

/** Zoom by factor keeping the screen point (sx, sy) fixed. */
export function zoomAt(sx: number, sy: number, factor: number) {
  const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, view.scale * factor));
  const w = toWorld(sx, sy);
  setView({ scale, x: sx - w.x * scale, y: sy - w.y * scale });
}

export const zoomBy = (factor: number) => zoomAt(viewport.width / 2, viewport.height / 2, factor);

export const panBy = (dx: number, dy: number) => setView({ x: view.x + dx, y: view.y + dy });

/** Show the whole rectangle with a margin, at most at 100%. */
export function fitRect(r: Rect | null, margin = 48) {
  if (!r) {
    setView({ x: viewport.width / 2, y: viewport.height / 2, scale: 1 });
    return;
  }
  const sw = Math.max(1, viewport.width - 2 * margin);
  const sh = Math.max(1, viewport.height - 2 * margin);
  const scale = Math.min(1, sw / Math.max(r.w, 1), sh / Math.max(r.h, 1));
  setView({
    scale,
    x: viewport.width / 2 - (r.x + r.w / 2) * Math.max(MIN_SCALE, scale),
    y: viewport.height / 2 - (r.y + r.h / 2) * Math.max(MIN_SCALE, scale),
  });
}

/** The visible world rectangle. */
export function visibleWorld(): Rect {
  const a = toWorld(0, 0);
  return { x: a.x, y: a.y, w: viewport.width / view.scale, h: viewport.height / view.scale };
}

// --- frame timing probe (for the 60 fps benchmark) -------------------------------------------
const FRAME_RING = 1200;
const frames: number[] = [];
const draws: number[] = [];
let last = 0;
let probing = false;

function tick(t: number) {
  if (last) {
    frames.push(t - last);
    if (frames.length > FRAME_RING) frames.splice(0, frames.length - FRAME_RING);
  }
  last = t;
  requestAnimationFrame(tick);
}

/** Start measuring frame intervals with requestAnimationFrame (idempotent). */
export function startFrameProbe() {
  if (probing || typeof requestAnimationFrame === "undefined") return;
  probing = true;
  requestAnimationFrame(tick);
}

/** Recent frame intervals in ms (newest last); reset=true empties the buffer after reading. */
export function frameTimes(reset = false): number[] {
  const out = frames.slice();
  if (reset) frames.length = 0;
  return out;
}

/** Time spent drawing the canvas layers per draw, ms (newest last). */
export function drawTimes(reset = false): number[] {
  const out = draws.slice();
  if (reset) draws.length = 0;
  return out;
}

export function recordDraw(ms: number) {
  draws.push(ms);
  if (draws.length > FRAME_RING) draws.splice(0, draws.length - FRAME_RING);
}
