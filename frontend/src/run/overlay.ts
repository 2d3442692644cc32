// Live overlay data for the canvas (placeholder; the full version follows).
import { useSyncExternalStore } from "react";

export interface ComponentLive {
  index: number;
  id: string;
  utilization: number;
  queue: number;
  errorRate: number;
  down: boolean;
  bottleneck: boolean;
  replicas: number;
  throughput: number;
  p99Ms: number;
}
export interface EdgeLive { index: number; rate: number; errorRate: number; partitioned: boolean }
export interface LiveOverlay {
  active: boolean;
  components: ComponentLive[];
  byId: Record<string, ComponentLive>;
  edges: EdgeLive[];
}

const EMPTY: LiveOverlay = { active: false, components: [], byId: {}, edges: [] };
let current: LiveOverlay = EMPTY;
const listeners = new Set<() => void>();

export function subscribeOverlay(cb: () => void): () => void {
  listeners.add(cb);
  return () => listeners.delete(cb);
}
export function getOverlay(): LiveOverlay {
  return current;
}
export function useLiveOverlay(): LiveOverlay {
  return useSyncExternalStore(subscribeOverlay, getOverlay, getOverlay);
}
export function _setOverlay(o: LiveOverlay) {
  current = o;
  listeners.forEach((l) => l());
}
