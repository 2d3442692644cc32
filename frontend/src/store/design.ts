// The design being edited: the document in the server's format (docs/design-format.md) with
// canvas positions, the selection, undo/redo stacks and the save state. Every change goes
// through update(fn), which works on a copy and then shares every unchanged component and
// edge object with the previous document, so the canvas re-renders only what changed and the
// undo stack holds cheap snapshots.
import { create } from "zustand";

export type EdgeMode = "call" | "forward" | "async";

export interface DesignComponent {
  id: string;
  type: string;
  label?: string;
  replicas?: number;
  x?: number;
  y?: number;
  zone?: string;
  params?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface DesignEdge {
  from: string;
  to: string;
  mode?: EdgeMode;
  p?: number;
  weight?: number;
  latency_ms?: number;
  timeout_ms?: number;
  retries?: number;
  [k: string]: unknown;
}

export interface Workload {
  to: string;
  rps?: number;
  users?: number;
  think_ms?: number;
  pattern?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface Design {
  version: number;
  name?: string;
  description?: string;
  components: DesignComponent[];
  edges: DesignEdge[];
  workload?: Workload[];
  scenario?: Array<Record<string, unknown>>;
  slo?: { p99_ms?: number; error_rate?: number };
  [k: string]: unknown;
}

export interface Selection {
  components: string[];
  edges: number[];
}

export type SaveState = "saved" | "saving" | "unsaved" | "error" | "conflict";

/** What Ctrl+C keeps: components and the edges between them, positions relative. */
export interface Clipboard {
  components: DesignComponent[];
  edges: DesignEdge[];
}

export const GRID = 20;
const UNDO_LIMIT = 200;
/** Updates with the same coalesce key within this time are one undo step (typing). */
const COALESCE_MS = 1000;

export interface DesignStore {
  doc: Design;
  projectId: string | null;
  /** The project version the document was loaded from or last saved as. */
  version: number;
  /** Counts changes; savedRevision is the one the server has. */
  revision: number;
  savedRevision: number;
  saveState: SaveState;
  saveError: string | null;
  selection: Selection;
  undoStack: Design[];
  redoStack: Design[];
  clipboard: Clipboard | null;
  lastCoalesce: { key: string; at: number } | null;

  load(doc: unknown, projectId?: string | null, version?: number): void;
  toJSON(): Design;
  update(fn: (draft: Design) => void, opts?: { coalesce?: string; keepSelection?: boolean }): void;
  undo(): void;
  redo(): void;
  select(sel: Partial<Selection>): void;
  clearSelection(): void;
  selectAll(): void;

  addComponent(type: string, x: number, y: number, extra?: Partial<DesignComponent>): string;
  addEdge(from: string, to: string, mode?: EdgeMode): number;
  moveComponents(ids: string[], dx: number, dy: number): void;
  setPositions(pos: Record<string, { x: number; y: number }>): void;
  renameComponent(oldId: string, newId: string): string | null;
  deleteSelection(): void;
  copySelection(): void;
  paste(offset?: number): void;
  duplicateSelection(): void;

  markSaving(): void;
  markSaved(version: number, revision: number): void;
  markSaveError(state: "error" | "conflict" | "unsaved", message: string | null): void;
}

export const snap = (v: number, grid = GRID) => Math.round(v / grid) * grid;

const ID_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
export const isValidId = (id: string) => ID_RE.test(id) && id.length <= 63;

/** Whole-value equality for JSON data. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], bb[i])) return false;
    return true;
  }
  const ak = Object.keys(a as object);
  const bk = Object.keys(b as object);
  if (ak.length !== bk.length) return false;
  for (const k of ak) {
    if (!Object.prototype.hasOwnProperty.call(b, k)) return false;
    if (!jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k])) {
      return false;
    }
  }
  return true;
}

const clone = <T>(v: T): T => (v === undefined ? v : JSON.parse(JSON.stringify(v)));

/** Reuse the previous objects wherever the new document holds equal ones. */
function share(prev: Design, next: Design): Design {
  const byId = new Map(prev.components.map((c) => [c.id, c]));
  next.components = next.components.map((c) => {
    const old = byId.get(c.id);
    return old && jsonEqual(old, c) ? old : c;
  });
  const edgeKey = (e: DesignEdge) => `${e.from}\u0000${e.to}`;
  const edges = new Map(prev.edges.map((e) => [edgeKey(e), e]));
  next.edges = next.edges.map((e) => {
    const old = edges.get(edgeKey(e));
    return old && jsonEqual(old, e) ? old : e;
  });
  if (jsonEqual(prev.components, next.components)) next.components = prev.components;
  if (jsonEqual(prev.edges, next.edges)) next.edges = prev.edges;
  for (const k of ["workload", "scenario", "slo"] as const) {
    if (prev[k] !== undefined && jsonEqual(prev[k], next[k])) {
      (next as Record<string, unknown>)[k] = prev[k];
    }
  }
  return next;
}

/** A document with the arrays the editor relies on, from whatever was loaded. */
export function normalize(raw: unknown): Design {
  const d = (raw && typeof raw === "object" ? clone(raw) : {}) as Design;
  if (typeof d.version !== "number") d.version = 1;
  if (!Array.isArray(d.components)) d.components = [];
  if (!Array.isArray(d.edges)) d.edges = [];
  return d;
}

export const emptyDesign = (): Design => ({ version: 1, name: "design", components: [], edges: [] });

/** A fresh id like "service_3" not used in the design. */
export function uniqueId(base: string, taken: Set<string>): string {
  let stem = base.replace(/[^A-Za-z0-9_.-]/g, "_");
  if (!/^[A-Za-z_]/.test(stem)) stem = "c_" + stem;
  stem = stem.slice(0, 56);
  if (!taken.has(stem)) return stem;
  const m = /^(.*?)_(\d+)$/.exec(stem);
  const root = m ? m[1] : stem;
  for (let n = m ? Number(m[2]) + 1 : 2; ; n++) {
    const id = `${root}_${n}`;
    if (!taken.has(id)) return id;
  }
}

/** Rewrite every reference to a component id (edges, workload, scenario targets). */
function renameRefs(d: Design, oldId: string, newId: string) {
  for (const c of d.components) if (c.id === oldId) c.id = newId;
  for (const e of d.edges) {
    if (e.from === oldId) e.from = newId;
    if (e.to === oldId) e.to = newId;
  }
  for (const w of d.workload ?? []) if (w.to === oldId) w.to = newId;
  for (const f of d.scenario ?? []) {
    const target = f.target;
    if (typeof target !== "string") continue;
    if (target === oldId) f.target = newId;
    const m = /^\s*(.+?)\s*->\s*(.+?)\s*$/.exec(target);
    if (m && (m[1] === oldId || m[2] === oldId)) {
      f.target = `${m[1] === oldId ? newId : m[1]}->${m[2] === oldId ? newId : m[2]}`;
    }
  }
}

/** Remove components and everything that refers to them. */
function removeComponents(d: Design, ids: Set<string>) {
  d.components = d.components.filter((c) => !ids.has(c.id));
  d.edges = d.edges.filter((e) => !ids.has(e.from) && !ids.has(e.to));
  if (d.workload) d.workload = d.workload.filter((w) => !ids.has(w.to));
  if (d.scenario) {
    d.scenario = d.scenario.filter((f) => {
      if (typeof f.target !== "string") return true;
      const m = /^\s*(.+?)\s*->\s*(.+?)\s*$/.exec(f.target);
      return m ? !ids.has(m[1]) && !ids.has(m[2]) : !ids.has(f.target);
    });
  }
}

const EMPTY_SEL: Selection = { components: [], edges: [] };

export const useDesign = create<DesignStore>((set, get) => {
  /** Apply a new document as one undoable step. */
  const commit = (next: Design, opts?: { coalesce?: string; selection?: Selection }) => {
    const s = get();
    const shared = share(s.doc, next);
    if (shared === s.doc || jsonEqual(shared, s.doc)) {
      if (opts?.selection) set({ selection: opts.selection });
      return;
    }
    const now = Date.now();
    const coalesce =
      opts?.coalesce && s.lastCoalesce && s.lastCoalesce.key === opts.coalesce &&
      now - s.lastCoalesce.at < COALESCE_MS && s.undoStack.length > 0;
    const undoStack = coalesce ? s.undoStack : [...s.undoStack, s.doc].slice(-UNDO_LIMIT);
    set({
      doc: shared,
      undoStack,
      redoStack: [],
      revision: s.revision + 1,
      saveState: s.saveState === "conflict" ? "conflict" : "unsaved",
      lastCoalesce: opts?.coalesce ? { key: opts.coalesce, at: now } : null,
      selection: opts?.selection ?? pruneSelection(s.selection, shared),
    });
  };

  return {
    doc: emptyDesign(),
    projectId: null,
    version: 0,
    revision: 0,
    savedRevision: 0,
    saveState: "saved",
    saveError: null,
    selection: EMPTY_SEL,
    undoStack: [],
    redoStack: [],
    clipboard: null,
    lastCoalesce: null,

    load(doc, projectId = null, version = 0) {
      set({
        doc: normalize(doc),
        projectId,
        version,
        revision: 0,
        savedRevision: 0,
        saveState: "saved",
        saveError: null,
        selection: EMPTY_SEL,
        undoStack: [],
        redoStack: [],
        lastCoalesce: null,
      });
    },

    toJSON() {
      const d = clone(get().doc);
      // The editor keeps empty arrays for convenience; the format leaves them out.
      if (d.workload && d.workload.length === 0) delete d.workload;
      if (d.scenario && d.scenario.length === 0) delete d.scenario;
      return d;
    },

    update(fn, opts) {
      const next = clone(get().doc);
      fn(next);
      commit(normalize(next), { coalesce: opts?.coalesce });
    },

    undo() {
      const s = get();
      const moved = step(s.undoStack, s.redoStack, s.doc);
      if (moved) set({ ...afterStep(s, moved.doc), undoStack: moved.from, redoStack: moved.to });
    },

    redo() {
      const s = get();
      const moved = step(s.redoStack, s.undoStack, s.doc);
      if (moved) set({ ...afterStep(s, moved.doc), redoStack: moved.from, undoStack: moved.to });
    },

    select(sel) {
      set({ selection: { components: sel.components ?? [], edges: sel.edges ?? [] } });
    },
    clearSelection() {
      set({ selection: EMPTY_SEL });
    },
    selectAll() {
      const d = get().doc;
      set({ selection: { components: d.components.map((c) => c.id), edges: d.edges.map((_, i) => i) } });
    },

    addComponent(type, x, y, extra) {
      const d = get().doc;
      const id = uniqueId(extra?.id ?? type, new Set(d.components.map((c) => c.id)));
      const c: DesignComponent = { ...extra, id, type, x: snap(x), y: snap(y) };
      const next = { ...d, components: [...d.components, c] };
      commit(next, { selection: { components: [id], edges: [] } });
      return id;
    },

    addEdge(from, to, mode = "call") {
      const d = get().doc;
      if (from === to) return -1;
      const existing = d.edges.findIndex((e) => e.from === from && e.to === to);
      if (existing >= 0) {
        set({ selection: { components: [], edges: [existing] } });
        return existing;
      }
      if (!d.components.some((c) => c.id === from) || !d.components.some((c) => c.id === to)) {
        return -1;
      }
      const e: DesignEdge = { from, to };
      if (mode !== "call") e.mode = mode;
      const next = { ...d, edges: [...d.edges, e] };
      commit(next, { selection: { components: [], edges: [next.edges.length - 1] } });
      return next.edges.length - 1;
    },

    moveComponents(ids, dx, dy) {
      const set_ = new Set(ids);
      const pos: Record<string, { x: number; y: number }> = {};
      for (const c of get().doc.components) {
        if (set_.has(c.id)) pos[c.id] = { x: (c.x ?? 0) + dx, y: (c.y ?? 0) + dy };
      }
      get().setPositions(pos);
    },

    setPositions(pos) {
      const d = get().doc;
      let changed = false;
      const components = d.components.map((c) => {
        const p = pos[c.id];
        if (!p) return c;
        const x = snap(p.x);
        const y = snap(p.y);
        if (x === c.x && y === c.y) return c;
        changed = true;
        return { ...c, x, y };
      });
      if (changed) commit({ ...d, components }, { selection: get().selection });
    },

    renameComponent(oldId, newId) {
      const d = get().doc;
      if (oldId === newId) return null;
      if (!isValidId(newId)) {
        return "an id starts with a letter or _ and continues with letters, digits, _ . - (at most 63)";
      }
      if (d.components.some((c) => c.id === newId)) return `the id "${newId}" is taken`;
      const next = clone(d);
      renameRefs(next, oldId, newId);
      const sel = get().selection;
      commit(next, {
        selection: { ...sel, components: sel.components.map((c) => (c === oldId ? newId : c)) },
      });
      return null;
    },

    deleteSelection() {
      const s = get();
      const ids = new Set(s.selection.components);
      const edgeIdx = new Set(s.selection.edges);
      if (ids.size === 0 && edgeIdx.size === 0) return;
      const next = clone(s.doc);
      next.edges = next.edges.filter((_, i) => !edgeIdx.has(i));
      removeComponents(next, ids);
      commit(next, { selection: EMPTY_SEL });
    },

    copySelection() {
      const s = get();
      const ids = new Set(s.selection.components);
      if (ids.size === 0) return;
      set({
        clipboard: {
          components: clone(s.doc.components.filter((c) => ids.has(c.id))),
          edges: clone(s.doc.edges.filter((e) => ids.has(e.from) && ids.has(e.to))),
        },
      });
    },

    paste(offset = 2 * GRID) {
      const s = get();
      const cb = s.clipboard;
      if (!cb || cb.components.length === 0) return;
      const taken = new Set(s.doc.components.map((c) => c.id));
      const map = new Map<string, string>();
      const comps = cb.components.map((c) => {
        const id = uniqueId(c.id, taken);
        taken.add(id);
        map.set(c.id, id);
        return { ...clone(c), id, x: snap((c.x ?? 0) + offset), y: snap((c.y ?? 0) + offset) };
      });
      const edges = cb.edges.map((e) => ({ ...clone(e), from: map.get(e.from)!, to: map.get(e.to)! }));
      commit(
        { ...s.doc, components: [...s.doc.components, ...comps], edges: [...s.doc.edges, ...edges] },
        { selection: { components: comps.map((c) => c.id), edges: [] } },
      );
      // The next paste lands one step further, like most editors.
      set({ clipboard: { components: comps, edges } });
    },

    duplicateSelection() {
      const keep = get().clipboard;
      get().copySelection();
      get().paste();
      set({ clipboard: keep });
    },

    markSaving() {
      set({ saveState: "saving", saveError: null });
    },
    markSaved(version, revision) {
      const s = get();
      set({
        version,
        savedRevision: revision,
        saveState: s.revision === revision ? "saved" : "unsaved",
        saveError: null,
      });
    },
    markSaveError(state, message) {
      set({ saveState: state, saveError: message });
    },
  };
});

/** One step of undo or redo: the document on top of `from` becomes current, the current one
 *  goes onto `to`. Null when there is nothing to step to. */
function step(from: Design[], to: Design[], current: Design) {
  if (from.length === 0) return null;
  return { doc: from[from.length - 1], from: from.slice(0, -1), to: [...to, current] };
}

/** What changes besides the stacks when undo or redo makes `doc` current. */
function afterStep(s: DesignStore, doc: Design) {
  return {
    doc,
    revision: s.revision + 1,
    saveState: (s.saveState === "conflict" ? "conflict" : "unsaved") as SaveState,
    lastCoalesce: null,
    selection: pruneSelection(s.selection, doc),
  };
}

function pruneSelection(sel: Selection, d: Design): Selection {
  if (sel.components.length === 0 && sel.edges.length === 0) return sel;
  const ids = new Set(d.components.map((c) => c.id));
  const components = sel.components.filter((c) => ids.has(c));
  const edges = sel.edges.filter((i) => i < d.edges.length);
  if (components.length === sel.components.length && edges.length === sel.edges.length) return sel;
  return { components, edges };
}

/** The component types' default replicas etc. are looked up by the panel; this is the dirty flag. */
export const isDirty = (s: DesignStore) => s.revision !== s.savedRevision;
