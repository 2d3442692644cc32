// The signed-in user's projects for the home screen: the list (newest update first, as the
// server orders it) and the actions on it. Component counts come from each project's design,
// which the list answer leaves out: fetched per card once and kept by id + version.
import { create } from "zustand";
import { api, ApiError } from "../api/client";
import type { DesignDoc, Project, ProjectList } from "../api/types";

/** The design a new, "empty" project starts from: the validator needs one component. */
export function starterDesign(name: string): DesignDoc {
  return {
    version: 1,
    name: name.slice(0, 127),
    components: [{ id: "api", type: "service", x: 400, y: 240 }],
    edges: [],
  };
}

export interface CardInfo {
  version: number;
  count: number;
  /** Component boxes scaled into the THUMB_W × THUMB_H sketch; edges as index pairs. */
  nodes: Array<{ x: number; y: number }>;
  nodeW: number;
  nodeH: number;
  links: Array<[number, number]>;
}

export const THUMB_W = 200;
export const THUMB_H = 90;
const THUMB_MAX = 60; // components drawn on a card; more would be noise at that size
const NODE_W = 144, NODE_H = 52; // a component's box on the canvas (canvas/theme.ts)

/** A card's summary of a design: how many components, and a sketch of the diagram. */
export function cardInfo(version: number, design: DesignDoc | undefined): CardInfo {
  const comps = Array.isArray(design?.components) ? design!.components : [];
  const shown = comps.slice(0, THUMB_MAX);
  const positioned = shown.every((c) => Number.isFinite(c.x) && Number.isFinite(c.y));
  // Without positions (hand-written designs) the boxes go on a grid, four to a row.
  const raw = shown.map((c, i) => positioned ? { x: c.x as number, y: c.y as number }
                                             : { x: (i % 4) * 200, y: Math.floor(i / 4) * 110 });
  const xs = raw.map((n) => n.x), ys = raw.map((n) => n.y);
  const minX = Math.min(...xs), minY = Math.min(...ys);
  const spanX = Math.max(...xs) - minX + NODE_W, spanY = Math.max(...ys) - minY + NODE_H;
  const pad = 8;
  const scale = Math.min((THUMB_W - 2 * pad) / spanX, (THUMB_H - 2 * pad) / spanY, 0.4);
  const offX = (THUMB_W - spanX * scale) / 2, offY = (THUMB_H - spanY * scale) / 2;
  const nodes = raw.map((n) => ({ x: offX + (n.x - minX) * scale, y: offY + (n.y - minY) * scale }));
  const index = new Map(shown.map((c, i) => [c.id, i]));
  const links: Array<[number, number]> = [];
  for (const e of Array.isArray(design?.edges) ? design!.edges : []) {
    const a = index.get(e.from as string), b = index.get(e.to as string);
    if (a !== undefined && b !== undefined) links.push([a, b]);
  }
  return { version, count: comps.length, nodes, nodeW: NODE_W * scale, nodeH: NODE_H * scale,
           links };
}

interface ProjectsState {
  projects: Project[];
  total: number;
  loading: boolean;
  error: string | null;
  /** id -> what a card shows of the design (count, sketch), for that version. */
  counts: Record<string, CardInfo>;
  load(): Promise<void>;
  /** The next page, appended (plans with more than a page of projects). */
  loadMore(): Promise<void>;
  create(name: string): Promise<Project>;
  rename(id: string, name: string): Promise<Project>;
  duplicate(id: string, name?: string): Promise<Project>;
  remove(id: string): Promise<void>;
  fetchCount(p: Project): Promise<void>;
}

const PAGE = 100; // the server's largest page; plans allow far fewer projects

export const useProjects = create<ProjectsState>((set, get) => ({
  projects: [],
  total: 0,
  loading: false,
  error: null,
  counts: {},

  async load() {
    set({ loading: true, error: null });
    try {
      const r = await api<ProjectList>("GET", `/api/projects?limit=${PAGE}&offset=0`);
      set({ projects: r.projects, total: r.total, loading: false });
    } catch (e) {
      set({ loading: false, error: (e as Error).message });
    }
  },

  async loadMore() {
    const have = get().projects.length;
    if (have >= get().total) return;
    try {
      const r = await api<ProjectList>("GET", `/api/projects?limit=${PAGE}&offset=${have}`);
      const known = new Set(get().projects.map((p) => p.id));
      set((s) => ({ projects: [...s.projects, ...r.projects.filter((p) => !known.has(p.id))],
                    total: r.total }));
    } catch (e) {
      set({ error: (e as Error).message });
      throw e;
    }
  },

  async create(name) {
    const p = await api<Project>("POST", "/api/projects", { name, design: starterDesign(name) });
    set((s) => ({ projects: [p, ...s.projects], total: s.total + 1 }));
    return p;
  },

  async rename(id, name) {
    const cur = get().projects.find((p) => p.id === id);
    let version = cur?.version;
    if (version === undefined) {
      version = (await api<Project>("GET", `/api/projects/${enc(id)}`)).version;
    }
    let p: Project;
    try {
      p = await api<Project>("PUT", `/api/projects/${enc(id)}`, { version, name });
    } catch (e) {
      // Saved elsewhere meanwhile (the editor's autosave): a rename sends no design, so
      // retrying on the current version loses nothing.
      const current = e instanceof ApiError && e.status === 409 ? e.body?.currentVersion : undefined;
      if (typeof current !== "number") throw e;
      p = await api<Project>("PUT", `/api/projects/${enc(id)}`, { version: current, name });
    }
    set((s) => ({ projects: [strip(p), ...s.projects.filter((q) => q.id !== id)] }));
    return p;
  },

  async duplicate(id, name) {
    const p = await api<Project>("POST", `/api/projects/${enc(id)}/fork`, name ? { name } : {});
    set((s) => ({ projects: [strip(p), ...s.projects], total: s.total + 1 }));
    return p;
  },

  async remove(id) {
    await api<void>("DELETE", `/api/projects/${enc(id)}`);
    set((s) => ({ projects: s.projects.filter((p) => p.id !== id), total: s.total - 1 }));
  },

  async fetchCount(p) {
    const known = get().counts[p.id];
    if (known && known.version === p.version) return;
    try {
      const full = await api<Project>("GET", `/api/projects/${enc(p.id)}`);
      const info = cardInfo(full.version, full.design);
      set((s) => ({ counts: { ...s.counts, [p.id]: info } }));
    } catch {
      // the card shows no count
    }
  },
}));

function enc(id: string) {
  return encodeURIComponent(id);
}

function strip(p: Project): Project {
  const { design: _design, ...rest } = p;
  void _design;
  return rest;
}
