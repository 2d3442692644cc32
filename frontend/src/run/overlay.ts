// Live overlay of a running simulation on the canvas: the data, and how the editor shows it.
//
// CONTRACT WITH THE EDITOR (H5, src/editor, src/canvas):
//  1. Drawing: H7 draws the live layer itself. Mount `<LiveLayer rectOf={...} />` from
//     "../run/LiveLayer" inside your react-konva <Stage>, as the LAST child (above the nodes).
//     `rectOf(componentId)` returns the node's box in stage coordinates
//     {x, y, width, height} (or null when not drawn). Optional `edgePoints(edgeIndex)` returns
//     [x1, y1, x2, y2] when edges are not straight centre-to-centre lines. The layer does not
//     listen to events (clicks go through to your nodes) and redraws itself from the frames
//     at ~30 Hz with no React re-render. It draws: utilization colour ring + tint, queue bar,
//     error flash, DOWN state, bottleneck badge, edge rate labels and moving dots.
//  2. Data (if you also want to tint or label nodes yourself): `useLiveOverlay()` is a React
//     hook returning LiveOverlay, updated at most ~4 times a second; `getOverlay()` and
//     `subscribeOverlay(cb)` are the same without React (cb runs after each update).
//     `onFrame(cb)` calls cb(frame) for every decoded frame (~20 Hz) for imperative drawing.
//  3. Export: call `setCanvasStage(stage)` with your Konva.Stage when it mounts (and
//     `setCanvasStage(null)` when it unmounts); the PNG/PDF export uses `getCanvasStage()`.
//  4. Context menu: on right-click of a node or an edge, render
//     `<ComponentContextMenu kind="component"|"edge" id={componentId | edgeIndex} x={clientX}
//     y={clientY} onClose={...} />` from "../run/ContextMenu" (see its props comment).
//  5. Plugins: after a plugin is saved the palette should reload its types: subscribe with
//     `onPluginsChanged(cb)` from "../plugins/events" and refetch GET /api/components.
import { useSyncExternalStore } from "react";
import type Konva from "konva";
import type { Frame } from "../gen/sdsim_pb";

export interface ComponentLive {
  index: number;
  id: string;
  type: string;
  utilization: number; // 0..1
  queue: number; // mean requests waiting
  arrivalRate: number; // requests/s
  throughput: number; // completions/s
  errorRate: number; // errors/s
  errorFraction: number; // errors / arrivals, 0..1
  errors: number; // since the start
  /** True when errors grew since the previous frame (draw a flash). */
  erroring: boolean;
  down: boolean;
  bottleneck: boolean;
  replicas: number;
  p50Ms: number;
  p99Ms: number;
  /** The analytic pass's saturation rate of this component (requests/s), when known. */
  saturationRps: number | null;
}

export interface EdgeLive {
  index: number;
  from: string;
  to: string;
  rate: number; // requests/s
  errorRate: number; // failed calls/s
  partitioned: boolean;
  breaker: number; // 0 closed, 1 open, 2 half-open
}

export interface Bottleneck {
  id: string;
  utilization: number;
  /** The analytic pass's sentence (POST /api/analyze), when it has one. */
  reason: string | null;
  /** Which component the analytic pass predicts saturates first (may differ). */
  analyticId: string | null;
}

export interface LiveOverlay {
  active: boolean; // a simulation is loaded (running, paused or ended)
  running: boolean;
  simTime: number;
  components: ComponentLive[]; // design order
  byId: Record<string, ComponentLive>;
  edges: EdgeLive[]; // design order
  bottleneck: Bottleneck | null;
}

export const EMPTY_OVERLAY: LiveOverlay = {
  active: false,
  running: false,
  simTime: 0,
  components: [],
  byId: {},
  edges: [],
  bottleneck: null,
};

let current: LiveOverlay = EMPTY_OVERLAY;
const listeners = new Set<() => void>();
const frameListeners = new Set<(f: Frame) => void>();

export function subscribeOverlay(cb: () => void): () => void {
  listeners.add(cb);
  return () => {
    listeners.delete(cb);
  };
}
export function getOverlay(): LiveOverlay {
  return current;
}
export function useLiveOverlay(): LiveOverlay {
  return useSyncExternalStore(subscribeOverlay, getOverlay, getOverlay);
}
/** Called by the sim store (throttled); not for the editor. */
export function publishOverlay(o: LiveOverlay): void {
  current = o;
  listeners.forEach((l) => l());
}

/** Every decoded frame, ~20 Hz, outside React. Returns the unsubscribe function. */
export function onFrame(cb: (f: Frame) => void): () => void {
  frameListeners.add(cb);
  return () => {
    frameListeners.delete(cb);
  };
}
export function publishFrame(f: Frame): void {
  frameListeners.forEach((l) => l(f));
}

let stage: Konva.Stage | null = null;
/** The editor registers its Konva stage here for the PNG/PDF export. */
export function setCanvasStage(s: Konva.Stage | null): void {
  stage = s;
}
export function getCanvasStage(): Konva.Stage | null {
  if (stage) return stage;
  const w = window as unknown as { __sdsim?: { stage?: Konva.Stage } };
  return w.__sdsim?.stage ?? null;
}

/** Utilization to a colour: green, amber, orange, red. */
export function utilColor(u: number): string {
  if (!(u >= 0)) return "#9aa3b2";
  if (u < 0.5) return "#22a06b";
  if (u < 0.75) return "#d9a400";
  if (u < 0.9) return "#e5732a";
  return "#d93636";
}
