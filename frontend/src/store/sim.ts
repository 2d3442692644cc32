// The live simulation store (Zustand): the current simulation (id, state, clock, speed, the
// index maps of its components and edges), the analytic prediction of the design, the report
// once it ends, and the notices. Frames arrive ~20 Hz: `frame` holds the latest, but React
// components must not select it (or simTimeLive); charts and overlays read it imperatively
// (useSim.getState().frame, getHistory(), onFrame() in src/run/overlay.ts). The fields React
// selects (state, simTime, ...) change at most ~4 times a second.
import { create } from "zustand";
import { SimState, type Frame } from "../gen/sdsim_pb";
import { api, ApiError } from "../api/client";
import { simSocket, type WsMessage } from "../api/ws";
import { toast } from "../ui/toast";
import {
  EMPTY_OVERLAY,
  publishFrame,
  publishOverlay,
  type ComponentLive,
  type EdgeLive,
  type LiveOverlay,
} from "../run/overlay";

export type SimStateName =
  | "idle"
  | "starting"
  | "running"
  | "paused"
  | "finished"
  | "stopped"
  | "failed";

export interface SimComponentRef {
  index: number;
  id: string;
  type: string;
}
export interface SimEdgeRef {
  index: number;
  from: string;
  to: string;
  mode?: string;
}

/** GET /api/simulations/:id and the control answers. */
export interface SimStatus {
  id: string;
  state: string;
  simTime?: number;
  duration?: number;
  speed?: number;
  events?: number;
  wallSeconds?: number;
  error?: string | null;
  components?: SimComponentRef[];
  edges?: SimEdgeRef[];
}

export interface RunConfig {
  duration: number;
  warmup?: number;
  seed: number;
  speed: number; // simulated seconds per wall second; 0 = as fast as possible
  startPaused?: boolean;
}

/** The analytic pass (POST /api/analyze), as `sdsim analyze --json` prints it. */
export interface Analysis {
  components: Record<
    string,
    {
      arrival_rps: number | null;
      utilization: number | null;
      mean_response_ms: number | null;
      saturation_rps: number | null;
      exactness?: string;
    }
  >;
  offered_rps: number | null;
  e2e_mean_ms: number | null;
  saturation_rps: number | null;
  bottleneck: string | null;
  reason: string | null;
  closed?: boolean;
}

export interface Notice {
  at: number;
  kind: string;
  text: string;
  component: number;
}

/** The report JSON (docs/report-format.md); loosely typed, the report view reads it. */
export type Report = Record<string, unknown> & {
  components?: Record<string, Record<string, unknown>>;
  e2e?: Record<string, unknown>;
};

export interface SimStore {
  id: string | null;
  state: SimStateName;
  simTime: number; // throttled (~4 Hz) for React
  duration: number;
  speed: number;
  events: number;
  error: string | null;
  components: SimComponentRef[];
  edges: SimEdgeRef[];
  /** Latest frame (changes ~20 Hz; read with getState(), do not select). */
  frame: Frame | null;
  framesSeen: number;
  analysis: Analysis | null;
  analysisError: string | null;
  report: Report | null;
  reportError: string | null;
  notices: Notice[];
  /** A short-lived message for the toast (errors of controls, faults applied). */
  toast: { kind: "error" | "info"; text: string; at: number } | null;
  busy: boolean;

  start(design: unknown, config: RunConfig): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  step(seconds?: number): Promise<void>;
  stop(): Promise<void>;
  setSpeed(speed: number): Promise<void>;
  inject(fault: InjectBody): Promise<void>;
  setReplicas(component: string, replicas: number): Promise<void>;
  fetchReport(): Promise<void>;
  analyze(design: unknown): Promise<void>;
  ingestFrame(f: Frame): void;
  reset(): void;
  /** The design changed after the run ended: the overlay no longer matches, hide it. */
  hideLive(): void;
  notify(kind: "error" | "info", text: string): void;
}

/** POST /api/simulations/:id/inject (fault kinds of docs/design-format.md). */
export interface InjectBody {
  kind: string;
  target?: string | number;
  duration?: number;
  value?: number;
  multiply?: boolean;
  replica?: number;
  [k: string]: unknown;
}

const TERMINAL: SimStateName[] = ["finished", "stopped", "failed"];
export const isTerminal = (s: SimStateName) => TERMINAL.includes(s);
export const isLive = (s: SimStateName) => s === "running" || s === "paused";

export function stateName(s: SimState | string | undefined): SimStateName {
  switch (s) {
    case SimState.RUNNING:
    case "running":
      return "running";
    case SimState.PAUSED:
    case "paused":
      return "paused";
    case SimState.FINISHED:
    case "finished":
      return "finished";
    case SimState.STOPPED:
    case "stopped":
      return "stopped";
    case SimState.FAILED:
    case "failed":
      return "failed";
    default:
      return "running";
  }
}

// ---------------------------------------------------------------- history (ring buffers)

/** A fixed-size ring of numbers; old points are overwritten. */
export class Ring {
  readonly buf: Float64Array | Float32Array;
  private start = 0;
  length = 0;
  /** `single`: 32-bit floats (per-component figures; half the memory). */
  constructor(readonly capacity: number, single = false) {
    this.buf = single ? new Float32Array(capacity) : new Float64Array(capacity);
  }
  push(v: number) {
    if (this.length < this.capacity) {
      this.buf[(this.start + this.length) % this.capacity] = v;
      this.length++;
    } else {
      this.buf[this.start] = v;
      this.start = (this.start + 1) % this.capacity;
    }
  }
  at(i: number): number {
    return this.buf[(this.start + i) % this.capacity];
  }
  toArray(): number[] {
    const out = new Array<number>(this.length);
    for (let i = 0; i < this.length; i++) out[i] = this.at(i);
    return out;
  }
  clear() {
    this.start = 0;
    this.length = 0;
  }
}

export const TOTAL_SERIES = [
  "t",
  "arrival",
  "throughput",
  "errorRate",
  "p50",
  "p95",
  "p99",
  "cost",
] as const;
export const COMPONENT_SERIES = [
  "throughput",
  "arrival",
  "errors",
  "utilization",
  "queue",
  "p50",
  "p99",
  "replicas",
] as const;
export type TotalSeries = (typeof TOTAL_SERIES)[number];
export type ComponentSeries = (typeof COMPONENT_SERIES)[number];

export const HISTORY_POINTS = 2400;
/** Numbers kept per series over all components: ~16 MB of 32-bit floats. */
const COMPONENT_BUDGET = 4_000_000;

/** Points a series keeps for a design of n components: 2,400, fewer for big designs. */
export function historyCapacity(n: number): number {
  const per = Math.floor(COMPONENT_BUDGET / (COMPONENT_SERIES.length * Math.max(1, n)));
  return Math.max(200, Math.min(HISTORY_POINTS, per));
}

export class History {
  totals: Record<TotalSeries, Ring>;
  comps: Record<ComponentSeries, Ring>[] = [];
  /** Count of points ever pushed (charts redraw when it changes). */
  version = 0;
  lastT = -Infinity;
  capacity: number;
  constructor(capacity = HISTORY_POINTS) {
    this.capacity = capacity;
    this.totals = this.newTotals();
  }
  private newTotals() {
    return Object.fromEntries(
      TOTAL_SERIES.map((k) => [k, new Ring(this.capacity)]),
    ) as Record<TotalSeries, Ring>;
  }
  /** Empty, for a run of nComponents; `capacity` (when given) sets the points kept. */
  clear(nComponents = 0, capacity?: number) {
    if (capacity !== undefined && capacity !== this.capacity) {
      this.capacity = capacity;
      this.totals = this.newTotals();
    }
    for (const k of TOTAL_SERIES) this.totals[k].clear();
    this.comps = [];
    for (let i = 0; i < nComponents; i++) this.comps.push(this.newComp());
    this.version++;
    this.lastT = -Infinity;
  }
  private newComp() {
    return Object.fromEntries(
      COMPONENT_SERIES.map((k) => [k, new Ring(this.capacity, true)]),
    ) as Record<ComponentSeries, Ring>;
  }
  /**
   * Add a frame's figures when simulated time moved at least `minDt` on (so a whole run of
   * `duration` fits: minDt = duration / capacity). Returns whether a point was added.
   */
  add(f: Frame, minDt: number): boolean {
    // Time only moves forward within a run (a new run clears the history first); a frame
    // from behind (a reply racing a step) is ignored rather than rewinding the charts.
    if (f.simTime < this.lastT + minDt) return false;
    this.lastT = f.simTime;
    const t = f.totals;
    const T = this.totals;
    T.t.push(f.simTime);
    T.arrival.push(t?.arrivalRate ?? 0);
    T.throughput.push(t?.throughput ?? 0);
    T.errorRate.push(t?.errorRate ?? 0);
    T.p50.push(t?.p50Ms ?? 0);
    T.p95.push(t?.p95Ms ?? 0);
    T.p99.push(t?.p99Ms ?? 0);
    T.cost.push(t?.costMonth ?? 0);
    while (this.comps.length < f.components.length) this.comps.push(this.newComp());
    const seen = new Set<number>();
    for (const c of f.components) {
      const r = this.comps[c.index];
      if (!r || seen.has(c.index)) continue;
      seen.add(c.index);
      r.throughput.push(c.throughput);
      r.arrival.push(c.arrivalRate);
      r.errors.push(c.errorRate);
      r.utilization.push(c.utilization);
      r.queue.push(c.queue);
      r.p50.push(c.p50Ms);
      r.p99.push(c.p99Ms);
      r.replicas.push(c.replicas);
    }
    // A component missing from the frame keeps the series aligned with NaN (a gap).
    this.comps.forEach((r, i) => {
      if (!seen.has(i)) for (const k of COMPONENT_SERIES) r[k].push(NaN);
    });
    this.version++;
    return true;
  }
}

const history = new History();
export function getHistory(): History {
  return history;
}

// ---------------------------------------------------------------- overlay

/** The overlay the canvas draws, from a frame and the simulation's index maps. */
export function buildOverlay(
  f: Frame | null,
  comps: SimComponentRef[],
  edges: SimEdgeRef[],
  analysis: Analysis | null,
  errorAt: Map<number, number>,
  running: boolean,
  now = Date.now(),
): LiveOverlay {
  if (!f) return comps.length ? { ...EMPTY_OVERLAY, active: true, running } : EMPTY_OVERLAY;
  const out: ComponentLive[] = [];
  const byId: Record<string, ComponentLive> = {};
  const bIdx = f.totals?.bottleneck ?? -1;
  for (const c of f.components) {
    const ref = comps[c.index];
    if (!ref) continue;
    const errs = Number(c.errors);
    const live: ComponentLive = {
      index: c.index,
      id: ref.id,
      type: ref.type,
      utilization: c.utilization,
      queue: c.queue,
      arrivalRate: c.arrivalRate,
      throughput: c.throughput,
      errorRate: c.errorRate,
      errorFraction: c.arrivalRate > 0 ? Math.min(1, c.errorRate / c.arrivalRate) : 0,
      errors: errs,
      // A flash for errors that matter (0.5% of arrivals or more), not a stray timeout.
      erroring:
        now - (errorAt.get(c.index) ?? -Infinity) < ERROR_FLASH_MS &&
        (c.down || c.errorRate >= 0.005 * Math.max(c.arrivalRate, 1)),
      down: c.down,
      bottleneck: c.index === bIdx,
      replicas: c.replicas,
      p50Ms: c.p50Ms,
      p99Ms: c.p99Ms,
      saturationRps: analysis?.components?.[ref.id]?.saturation_rps ?? null,
    };
    out.push(live);
    byId[ref.id] = live;
  }
  const el: EdgeLive[] = [];
  for (const e of f.edges) {
    const ref = edges[e.index];
    if (!ref) continue;
    el.push({
      index: e.index,
      from: ref.from,
      to: ref.to,
      rate: e.rate,
      errorRate: e.errorRate,
      partitioned: e.partitioned,
      breaker: e.breaker,
    });
  }
  const b = bIdx >= 0 ? comps[bIdx] : undefined;
  return {
    active: true,
    running,
    simTime: f.simTime,
    components: out,
    byId,
    edges: el,
    bottleneck: b
      ? {
          id: b.id,
          utilization: byId[b.id]?.utilization ?? 0,
          reason: analysis?.reason ?? null,
          analyticId: analysis?.bottleneck ?? null,
        }
      : null,
  };
}

// ---------------------------------------------------------------- the store

const OVERLAY_MS = 250;
const CLOCK_MS = 250;
let lastOverlay = 0;
let lastClock = 0;
/** Per component: errors count of the last frame, and wall ms when it last grew. */
let prevErrors = new Map<number, number>();
let errorAt = new Map<number, number>();
export const ERROR_FLASH_MS = 1000;
let pollTimer: ReturnType<typeof setInterval> | null = null;
let lastFrameWall = 0;
let reportTries = 0;
let overlayHidden = false;

function errText(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  if (e instanceof Error) return e.message;
  return String(e);
}

const INITIAL = {
  id: null,
  state: "idle" as SimStateName,
  simTime: 0,
  duration: 0,
  speed: 1,
  events: 0,
  error: null,
  components: [],
  edges: [],
  frame: null,
  framesSeen: 0,
  report: null,
  reportError: null,
  notices: [],
  busy: false,
};

export const useSim = create<SimStore>((set, get) => {
  /** Status from REST or a control reply. */
  function applyStatus(s: SimStatus | undefined) {
    if (!s || (s.id && get().id && s.id !== get().id)) return;
    // A reply without a state (an older server) leaves the state as it is.
    const state = s.state ? stateName(s.state) : get().state;
    const patch: Partial<SimStore> = { state };
    if (typeof s.simTime === "number") patch.simTime = s.simTime;
    if (typeof s.duration === "number") patch.duration = s.duration;
    if (typeof s.speed === "number") patch.speed = s.speed;
    if (typeof s.events === "number") patch.events = s.events;
    if (s.error) patch.error = s.error;
    if (s.components?.length) patch.components = s.components;
    if (s.edges?.length) patch.edges = s.edges;
    const was = get().state;
    set(patch);
    if (isTerminal(state) && !isTerminal(was)) onEnded();
    refreshOverlay(true);
  }

  function refreshOverlay(force = false) {
    const now = Date.now();
    if (!force && now - lastOverlay < OVERLAY_MS) return;
    lastOverlay = now;
    const s = get();
    if (s.state === "idle" || overlayHidden) {
      publishOverlay(EMPTY_OVERLAY);
      return;
    }
    publishOverlay(
      buildOverlay(s.frame, s.components, s.edges, s.analysis, errorAt, s.state === "running"),
    );
  }

  function onEnded() {
    stopPolling();
    reportTries = 0;
    void get().fetchReport();
  }

  function startPolling() {
    stopPolling();
    // Frames come over the WebSocket; when none came for 2 s (socket down, or a server
    // without the stream) the status is polled so the clock and the end are still seen.
    pollTimer = setInterval(async () => {
      const { id, state } = get();
      if (!id || !isLive(state)) return stopPolling();
      if (Date.now() - lastFrameWall < 2000) return;
      try {
        applyStatus(await api<SimStatus>("GET", `/api/simulations/${id}`));
      } catch {
        /* keep trying */
      }
    }, 1000);
  }
  function stopPolling() {
    if (pollTimer) clearInterval(pollTimer);
    pollTimer = null;
  }

  /** A control action: over the socket when it is open, else REST. */
  async function control(action: string, fields: Record<string, unknown> = {}) {
    const id = get().id;
    if (!id) throw new Error("no simulation is running");
    if (simSocket.isOpen()) {
      try {
        const m = await simSocket.control(id, action, fields);
        applyStatus((m.status as SimStatus) ?? undefined);
        return;
      } catch (e) {
        // A server that does not know the message yet: fall back to REST once.
        if (!/unknown message type/.test(errText(e))) throw e;
      }
    }
    const body = Object.keys(fields).length ? fields : undefined;
    applyStatus(await api<SimStatus>("POST", `/api/simulations/${id}/${action}`, body ?? {}));
  }

  async function guarded(what: string, fn: () => Promise<void>) {
    set({ busy: true });
    try {
      await fn();
    } catch (e) {
      get().notify("error", `${what}: ${errText(e)}`);
    } finally {
      set({ busy: false });
    }
  }

  simSocket.frameHandler = (f) => get().ingestFrame(f);
  simSocket.onMessage((m: WsMessage) => {
    const id = get().id;
    if (m.type === "ended" && m.simulation === id) {
      applyStatus({ id: id!, state: String(m.state ?? "finished") });
    } else if (m.type === "subscribed" && m.simulation === id) {
      applyStatus({ ...(m as unknown as SimStatus), id: id! });
    }
  });

  return {
    ...INITIAL,
    analysis: null,
    analysisError: null,
    toast: null,

    notify(kind, text) {
      set({ toast: { kind, text, at: Date.now() } });
      if (kind === "error") toast.error(text);
      else toast.info(text);
    },

    hideLive() {
      if (overlayHidden || !isTerminal(get().state)) return;
      overlayHidden = true;
      publishOverlay(EMPTY_OVERLAY);
    },

    reset() {
      overlayHidden = false;
      const id = get().id;
      if (id) simSocket.unsubscribe(id);
      stopPolling();
      prevErrors = new Map();
      errorAt = new Map();
      history.clear(0);
      set({ ...INITIAL });
      refreshOverlay(true);
    },

    async analyze(design) {
      try {
        const a = await api<Analysis>("POST", "/api/analyze", design);
        set({ analysis: a, analysisError: null });
      } catch (e) {
        set({ analysis: null, analysisError: errText(e) });
      }
    },

    async start(design, config) {
      get().reset();
      set({ state: "starting", busy: true, duration: config.duration, speed: config.speed });
      void get().analyze(design);
      try {
        const s = await api<SimStatus>("POST", "/api/simulations/start", { design, config });
        const n = s.components?.length ?? 0;
        history.clear(n, historyCapacity(n));
        set({
          id: s.id,
          components: s.components ?? [],
          edges: s.edges ?? [],
          duration: s.duration ?? config.duration,
        });
        applyStatus(s);
        lastFrameWall = Date.now();
        simSocket.subscribe(s.id);
        startPolling();
      } catch (e) {
        set({ state: "idle" });
        const extra =
          e instanceof ApiError && e.errors?.length
            ? ` (${e.errors.slice(0, 3).map((p) => `${p.path}: ${p.reason}`).join("; ")})`
            : "";
        get().notify("error", `Cannot start: ${errText(e)}${extra}`);
      } finally {
        set({ busy: false });
      }
    },

    pause: () => guarded("Pause", () => control("pause")),
    resume: () => guarded("Resume", () => control("resume")),
    step: (seconds = 1) => guarded("Step", () => control("step", { seconds })),
    stop: () => guarded("Stop", () => control("stop")),
    setSpeed: (speed) =>
      guarded("Speed", async () => {
        set({ speed });
        if (get().id && isLive(get().state)) await control("speed", { speed });
      }),
    inject: (fault) =>
      guarded("Fault", async () => {
        await control("inject", fault);
        get().notify("info", `Injected ${fault.kind}${fault.target !== undefined ? ` on ${fault.target}` : ""}`);
      }),
    setReplicas: (component, replicas) =>
      guarded("Replicas", async () => {
        await control("replicas", { component, replicas });
        get().notify("info", `${component}: ${replicas} replicas`);
      }),

    async fetchReport() {
      const id = get().id;
      if (!id) return;
      try {
        const r = await api<Report>("GET", `/api/simulations/${id}/report`);
        set({ report: r, reportError: null });
      } catch (e) {
        // 409 while the run is still winding down: ask again shortly.
        if (e instanceof ApiError && e.status === 409 && reportTries++ < 20) {
          setTimeout(() => void get().fetchReport(), 500);
          return;
        }
        set({ reportError: errText(e) });
      }
    },

    ingestFrame(f) {
      const s = get();
      if (!s.id || (f.simulationId && f.simulationId !== s.id)) return;
      lastFrameWall = Date.now();
      for (const c of f.components) {
        const n = Number(c.errors);
        const prev = prevErrors.get(c.index);
        if (prev !== undefined && n > prev) errorAt.set(c.index, lastFrameWall);
        prevErrors.set(c.index, n);
      }
      const duration = f.duration > 0 ? f.duration : s.duration;
      history.add(f, duration > 0 ? duration / (history.capacity - 1) : 0);
      const state = stateName(f.state);
      const patch: Partial<SimStore> = { frame: f, framesSeen: s.framesSeen + 1 };
      const now = Date.now();
      if (state !== s.state || now - lastClock >= CLOCK_MS || isTerminal(state)) {
        lastClock = now;
        patch.simTime = f.simTime;
        patch.events = Number(f.events);
        patch.state = state;
        patch.duration = duration;
        if (f.speed !== s.speed && !s.busy) patch.speed = f.speed;
        if (f.error) patch.error = f.error;
      }
      if (f.notices.length) {
        const add = f.notices.map((n) => ({
          at: n.at,
          kind: n.kind,
          text: n.text,
          component: n.component,
        }));
        patch.notices = [...s.notices, ...add].slice(-200);
      }
      set(patch);
      publishFrame(f);
      refreshOverlay(patch.state !== undefined && patch.state !== s.state);
      if (isTerminal(state) && !isTerminal(s.state)) onEnded();
    },
  };
});

/** Expose the store for e2e tests (window.__sdsim.sim), beside the editor's design store. */
export function exposeSim(): void {
  if (typeof window === "undefined") return;
  const w = window as unknown as { __sdsim?: Record<string, unknown> };
  w.__sdsim = Object.assign(w.__sdsim ?? {}, { sim: useSim, simHistory: history });
}
exposeSim();
