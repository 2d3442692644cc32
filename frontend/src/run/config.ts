// The run settings of the run bar (duration, seed, speed), kept per browser.
import { create } from "zustand";

export interface RunSettings {
  duration: number; // simulated seconds
  seed: number;
  speed: number; // simulated seconds per wall second; 0 = as fast as possible
  set(p: Partial<Omit<RunSettings, "set">>): void;
}

const KEY = "sdsim.run";

function load(): Partial<RunSettings> {
  try {
    return JSON.parse(localStorage.getItem(KEY) ?? "{}") as Partial<RunSettings>;
  } catch {
    return {};
  }
}

export const SPEEDS: Array<{ value: number; label: string }> = [
  { value: 1, label: "1×" },
  { value: 10, label: "10×" },
  { value: 100, label: "100×" },
  { value: 0, label: "max" },
];

export const useRunSettings = create<RunSettings>((set, get) => ({
  duration: 60,
  seed: 1,
  speed: 1,
  ...load(),
  set(p) {
    set(p);
    const { duration, seed, speed } = get();
    try {
      localStorage.setItem(KEY, JSON.stringify({ duration, seed, speed }));
    } catch {
      /* private mode */
    }
  },
}));
