// The minimap: every component as a dot in its category colour and the visible area as a
// frame; click or drag in it to move the view there. A plain 2D canvas redrawn once per
// animation frame at most.
import { useEffect, useRef } from "react";
import type { Rect, Scene } from "./scene";
import { ACCENT, NODE_H, NODE_W } from "./theme";
import { onView, setView, view, viewport, visibleWorld } from "./view";

const W = 180;
const H = 120;

export function Minimap({ scene }: { scene: Scene }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const sceneRef = useRef(scene);
  sceneRef.current = scene;
  const frame = useRef(0);
  const mapping = useRef<{ s: number; ox: number; oy: number } | null>(null);

  const draw = () => {
    frame.current = 0;
    const c = ref.current;
    const ctx = c?.getContext("2d");
    if (!c || !ctx) return;
    const dpr = window.devicePixelRatio || 1;
    if (c.width !== W * dpr) { c.width = W * dpr; c.height = H * dpr; }
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const b = sceneRef.current.bounds();
    const v = visibleWorld();
    // Nothing to find when the whole design is in view: the map would only hide part of it.
    const all_in = !b || (b.x >= v.x && b.y >= v.y && b.x + b.w <= v.x + v.w && b.y + b.h <= v.y + v.h);
    c.classList.toggle("minimap-hidden", all_in);
    const all: Rect = b
      ? { x: Math.min(b.x, v.x), y: Math.min(b.y, v.y), w: 0, h: 0 }
      : { ...v };
    if (b) {
      all.w = Math.max(b.x + b.w, v.x + v.w) - all.x;
      all.h = Math.max(b.y + b.h, v.y + v.h) - all.y;
    }
    const pad = 6;
    const s = Math.min((W - 2 * pad) / all.w, (H - 2 * pad) / all.h);
    const ox = pad + ((W - 2 * pad) - all.w * s) / 2 - all.x * s;
    const oy = pad + ((H - 2 * pad) - all.h * s) / 2 - all.y * s;
    mapping.current = { s, ox, oy };
    for (const n of sceneRef.current.nodes) {
      ctx.fillStyle = n.color;
      ctx.fillRect(ox + (n.x - NODE_W / 2) * s, oy + (n.y - NODE_H / 2) * s,
                   Math.max(1.5, NODE_W * s), Math.max(1.5, NODE_H * s));
    }
    ctx.strokeStyle = ACCENT;
    ctx.lineWidth = 1.5;
    ctx.fillStyle = "rgba(91,91,214,0.08)";
    ctx.fillRect(ox + v.x * s, oy + v.y * s, v.w * s, v.h * s);
    ctx.strokeRect(ox + v.x * s, oy + v.y * s, v.w * s, v.h * s);
  };
  const schedule = () => {
    if (!frame.current) frame.current = requestAnimationFrame(draw);
  };

  useEffect(schedule, [scene]);
  useEffect(() => onView(schedule), []);
  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  const moveTo = (e: React.PointerEvent) => {
    const m = mapping.current;
    const c = ref.current;
    if (!m || !c) return;
    const r = c.getBoundingClientRect();
    const wx = (e.clientX - r.left - m.ox) / m.s;
    const wy = (e.clientY - r.top - m.oy) / m.s;
    setView({ x: viewport.width / 2 - wx * view.scale, y: viewport.height / 2 - wy * view.scale });
  };

  return (
    <canvas
      ref={ref}
      className="minimap"
      data-testid="minimap"
      style={{ width: W, height: H }}
      onPointerDown={(e) => {
        e.stopPropagation();
        e.currentTarget.setPointerCapture(e.pointerId);
        moveTo(e);
      }}
      onPointerMove={(e) => {
        if (e.buttons & 1) moveTo(e);
      }}
      onPointerUp={(e) => e.stopPropagation()}
      onWheel={(e) => e.stopPropagation()}
    />
  );
}
