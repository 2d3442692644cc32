// The live simulation store (Zustand). React components subscribe to the slow-changing fields
// (id, state, speed, error, ...) with selectors; frames arrive ~20 Hz and are NOT stored in
// React state paths: read them imperatively with useSim.getState().frame or getHistory(), or
// listen with onFrame() from src/run/overlay.ts.
import { create } from "zustand";
import type { Frame } from "../gen/sdsim_pb";

export type SimStateName = "idle" | "starting" | "running" | "paused" | "finished" | "stopped" | "failed";

export interface SimComponentRef { index: number; id: string; type: string }
export interface SimEdgeRef { index: number; from: string; to: string; mode?: string }

export interface SimStore {
  id: string | null;
  state: SimStateName;
  simTime: number;
  duration: number;
  speed: number;
  error: string | null;
  components: SimComponentRef[];
  edges: SimEdgeRef[];
  /** Latest frame (mutated ~20 Hz; do not select it in React components). */
  frame: Frame | null;
}

export const useSim = create<SimStore>(() => ({
  id: null,
  state: "idle",
  simTime: 0,
  duration: 0,
  speed: 1,
  error: null,
  components: [],
  edges: [],
  frame: null,
}));
