// The design editor: top bar (back, name, save state, undo/redo, the run bar), palette on the
// left, canvas in the middle, property panel on the right, run panels at the bottom. Loads
// the project, autosaves it with its version, validates it as it changes.
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, api } from "../api/client";
import type { Project } from "../api/types";
import { Canvas, type ContextMenuRequest, canvasApi, designBounds } from "../canvas/Canvas";
import { autoLayout, generateLargeDesign } from "../canvas/scene";
import { drawTimes, fitRect, frameTimes, onView, startFrameProbe, view } from "../canvas/view";
import { onPluginsChanged } from "../plugins/events";
import { BottomPanel } from "../run/BottomPanel";
import { ComponentContextMenu } from "../run/ContextMenu";
import { RunBar } from "../run/RunBar";
import { routeHash } from "../screens/route";
import { type Design, jsonEqual, normalize, useDesign } from "../store/design";
import { readDraft, clearDraft, saveNow, startAutosave, type Draft } from "./autosave";
import { useCatalog } from "./catalog";
import { ConflictDialog, HelpOverlay } from "./Dialogs";
import { Palette } from "./Palette";
import { PropertyPanel } from "./PropertyPanel";
import { handleEditorKey } from "./shortcuts";
import { startValidation, useValidation } from "./validation";
import "./editor.css";

// Resolved once the editor has loaded its project, so that a benchmark design asked for while
// the app still signs in or fetches the project is not replaced by the project.
let readyDone = false;
let readyResolve: () => void = () => {};
let editorReady = new Promise<void>((r) => (readyResolve = r));
function markReady() {
  readyDone = true;
  readyResolve();
}
function resetReady() {
  if (!readyDone) return; // someone may be waiting on the pending one: keep it
  readyDone = false;
  editorReady = new Promise<void>((r) => (readyResolve = r));
}

// Test and benchmark hooks (dev and production builds alike).
declare global {
  interface Window { __sdsim?: Record<string, unknown> }
}
if (typeof window !== "undefined") {
  window.__sdsim = Object.assign(window.__sdsim || {}, {
    design: useDesign,
    catalog: useCatalog,
    validation: useValidation,
    canvas: canvasApi,
    view: () => ({ ...view }),
    frameTimes: (reset?: boolean) => { startFrameProbe(); return frameTimes(reset); },
    drawTimes,
    startFrameProbe,
    /** Replace the open design by a generated one (not saved: no project attached). */
    loadLargeDesign: async (n = 1000, m = 1500) => {
      await Promise.race([editorReady, new Promise((r) => setTimeout(r, 15000))]);
      useDesign.getState().load(generateLargeDesign(n, m), null, 0);
      requestAnimationFrame(() => canvasApi.fit());
      return { components: n, edges: useDesign.getState().doc.edges.length };
    },
  });
  startFrameProbe();
}

/** Load a project's design into the store (positions filled in where missing), then fit. */
function openProject(p: Project) {
  const d: Design = normalize(p.design ?? { version: 1, name: p.name, components: [], edges: [] });
  autoLayout(d);
  useDesign.getState().load(d, p.id, p.version);
  requestAnimationFrame(() => fitRect(designBounds(useDesign.getState().doc)));
}

function SaveStatus() {
  const state = useDesign((s) => s.saveState);
  const err = useDesign((s) => s.saveError);
  const projectId = useDesign((s) => s.projectId);
  if (!projectId) return <span className="save-status save-unsaved" data-testid="save-status">not saved (no project)</span>;
  const text = { saved: "Saved", saving: "Saving…", unsaved: "Unsaved changes", error: err ?? "Not saved", conflict: "Conflict: not saved" }[state];
  return (
    <span className={`save-status save-${state}`} data-testid="save-status" data-state={state} title={err ?? ""}>
      <span className="save-dot" />{text}
      {state === "error" && !/problem/.test(err ?? "") && <button className="pp-link" onClick={() => void saveNow()}>Retry</button>}
    </span>
  );
}

function UndoRedo() {
  const canUndo = useDesign((s) => s.undoStack.length > 0);
  const canRedo = useDesign((s) => s.redoStack.length > 0);
  return (
    <div className="tb-group">
      <button className="tb-btn" title="Undo (Ctrl+Z)" aria-label="Undo" data-testid="undo" disabled={!canUndo}
        onClick={() => useDesign.getState().undo()}>
        <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round"><path d="M9 14 4 9l5-5" /><path d="M4 9h10.5a5.5 5.5 0 0 1 0 11H11" /></svg>
      </button>
      <button className="tb-btn" title="Redo (Ctrl+Shift+Z)" aria-label="Redo" data-testid="redo" disabled={!canRedo}
        onClick={() => useDesign.getState().redo()}>
        <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round"><path d="m15 14 5-5-5-5" /><path d="M20 9H9.5a5.5 5.5 0 0 0 0 11H13" /></svg>
      </button>
    </div>
  );
}

function ZoomControls() {
  const [pct, setPct] = useState(Math.round(view.scale * 100));
  useEffect(() => {
    let raf = 0;
    return onView(() => {
      if (!raf) raf = requestAnimationFrame(() => { raf = 0; setPct(Math.round(view.scale * 100)); });
    });
  }, []);
  return (
    <div className="zoom-controls" data-testid="zoom-controls">
      <button className="tb-btn" title="Zoom out (−)" aria-label="Zoom out" onClick={canvasApi.zoomOut}>−</button>
      <button className="tb-btn zoom-pct" title="Zoom to 100% (0)" onClick={canvasApi.zoomReset} data-testid="zoom-pct">{pct}%</button>
      <button className="tb-btn" title="Zoom in (+)" aria-label="Zoom in" onClick={canvasApi.zoomIn}>+</button>
      <span className="tb-sep" />
      <button className="tb-btn" title="Fit to screen (F)" aria-label="Fit to screen" data-testid="zoom-fit" onClick={canvasApi.fit}>
        <svg width="15" height="15" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round"><path d="M8 3H5a2 2 0 0 0-2 2v3M21 8V5a2 2 0 0 0-2-2h-3M3 16v3a2 2 0 0 0 2 2h3M16 21h3a2 2 0 0 0 2-2v-3" /></svg>
      </button>
    </div>
  );
}

const BOTTOM_KEY = "sdsim.editor.bottomHeight";
const BOTTOM_MIN = 37; // the tab row alone

/** The bottom panel's slot, with a handle to resize it (double-click folds it to its tabs). */
function BottomSlot({ children }: { children: React.ReactNode }) {
  const [h, setH] = useState(() => {
    const v = Number(localStorage.getItem(BOTTOM_KEY));
    return Number.isFinite(v) && v >= BOTTOM_MIN ? v : 220;
  });
  const last = useRef(240);
  const set = (v: number) => {
    const max = Math.max(BOTTOM_MIN, window.innerHeight - 260);
    const nv = Math.round(Math.min(max, Math.max(BOTTOM_MIN, v)));
    setH(nv);
    try { localStorage.setItem(BOTTOM_KEY, String(nv)); } catch { /* storage disabled */ }
  };
  return (
    <>
      <div
        className="editor-splitter"
        role="separator"
        aria-orientation="horizontal"
        aria-label="Resize the bottom panel"
        title="Drag to resize; double-click to fold"
        data-testid="bottom-splitter"
        onPointerDown={(e) => {
          const y0 = e.clientY, h0 = h;
          const el = e.currentTarget;
          el.setPointerCapture(e.pointerId);
          const move = (ev: PointerEvent) => set(h0 - (ev.clientY - y0));
          const up = () => { el.removeEventListener("pointermove", move); el.removeEventListener("pointerup", up); };
          el.addEventListener("pointermove", move);
          el.addEventListener("pointerup", up);
        }}
        onDoubleClick={() => {
          if (h > BOTTOM_MIN + 4) { last.current = h; set(BOTTOM_MIN); } else set(last.current);
        }}
      />
      <div className="editor-bottom" style={{ height: h }}>{children}</div>
    </>
  );
}

function DraftBanner({ draft, onDone }: { draft: Draft; onDone: () => void }) {
  return (
    <div className="draft-banner" data-testid="draft-banner">
      <span>Unsaved changes from {new Date(draft.at).toLocaleString()} were found in this browser.</span>
      <button className="btn btn-sm btn-primary" onClick={() => {
        useDesign.getState().update((d) => {
          const n = normalize(draft.design);
          for (const k of Object.keys(d)) delete (d as Record<string, unknown>)[k];
          Object.assign(d, n);
        });
        onDone();
      }}>Restore</button>
      <button className="btn btn-sm" onClick={() => { clearDraft(useDesign.getState().projectId ?? ""); onDone(); }}>Discard</button>
    </div>
  );
}

export function EditorScreen({ projectId }: { projectId: string }) {
  const [project, setProject] = useState<Project | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [help, setHelp] = useState(false);
  const [menu, setMenu] = useState<ContextMenuRequest | null>(null);
  const [draft, setDraft] = useState<Draft | null>(null);
  const name = useDesign((s) => s.doc.name);

  const open = useCallback((p: Project) => {
    setProject(p);
    openProject(p);
    const dr = readDraft(p.id);
    if (dr && !jsonEqual(normalize(dr.design), normalize(useDesign.getState().toJSON()))) setDraft(dr);
    else if (dr) clearDraft(p.id);
  }, []);

  useEffect(() => {
    let live = true;
    setError(null);
    resetReady();
    api<Project>("GET", `/api/projects/${encodeURIComponent(projectId)}`)
      .then((p) => { if (live) open(p); })
      .catch((e) => {
        if (!live) return;
        setError(e instanceof ApiError && e.status === 404 ? "This project does not exist, or it is not yours." : (e as Error).message);
      })
      .finally(() => { if (live) markReady(); });
    void useCatalog.getState().load();
    return () => { live = false; };
  }, [projectId, open]);

  useEffect(() => {
    if (!project) return;
    const stopSave = startAutosave();
    const stopValidate = startValidation();
    return () => {
      void saveNow();
      stopSave();
      stopValidate();
    };
  }, [project]);

  useEffect(() => onPluginsChanged(() => void useCatalog.getState().reload()), []);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (handleEditorKey(e, () => setHelp((h) => !h))) e.preventDefault();
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  if (error) {
    return (
      <div className="editor editor-error" data-testid="editor">
        <div className="editor-error-box">
          <h2>Cannot open the project</h2>
          <p>{error}</p>
          <a className="btn" href={routeHash({ name: "projects" })}>Back to projects</a>
        </div>
      </div>
    );
  }

  return (
    <div className="editor" data-testid="editor">
      <header className="editor-top">
        <a className="tb-btn tb-back" href={routeHash({ name: "projects" })} title="Back to projects" aria-label="Back to projects" data-testid="editor-back">
          <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round"><path d="m15 18-6-6 6-6" /></svg>
        </a>
        <div className="editor-title">
          <span className="editor-project" data-testid="editor-project-name">{project?.name ?? "Loading…"}</span>
          {name && project && name !== project.name && <span className="editor-design-name">{name}</span>}
        </div>
        <SaveStatus />
        <UndoRedo />
        <div className="editor-top-spacer" />
        <button className="tb-btn" title="Keyboard shortcuts (?)" aria-label="Keyboard shortcuts" data-testid="help-button" onClick={() => setHelp(true)}>?</button>
      </header>
      <div className="editor-runbar"><RunBar projectId={projectId} /></div>
      {draft && <DraftBanner draft={draft} onDone={() => setDraft(null)} />}
      <div className="editor-main">
        <Palette />
        <div className="editor-center">
          {project ? <Canvas onContextMenu={setMenu} /> : <div className="canvas canvas-loading">Loading…</div>}
          <ZoomControls />
        </div>
        <PropertyPanel />
      </div>
      <BottomSlot><BottomPanel projectId={projectId} /></BottomSlot>
      {menu && <ComponentContextMenu kind={menu.kind} id={menu.id} x={menu.x} y={menu.y} onClose={() => setMenu(null)} />}
      {help && <HelpOverlay onClose={() => setHelp(false)} />}
      <ConflictDialog onReload={(p) => { setProject(p); openProject(p); }} />
    </div>
  );
}
