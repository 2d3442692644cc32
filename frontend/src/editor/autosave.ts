// Autosave: a changed design is PUT to /api/projects/:id a moment after the last edit, with
// the version it was loaded from. A 409 means someone else saved: the editor stops saving
// and asks (reload theirs / overwrite with mine / copy mine to a new project). Until saved,
// the design is also kept in localStorage so that closing the tab loses nothing.
import { ApiError, api } from "../api/client";
import type { Project } from "../api/types";
import { type Design, useDesign } from "../store/design";

const DRAFT_PREFIX = "sdsim.draft.";

export interface Draft {
  version: number;
  design: Design;
  at: number;
}

export function readDraft(projectId: string): Draft | null {
  try {
    const t = localStorage.getItem(DRAFT_PREFIX + projectId);
    return t ? (JSON.parse(t) as Draft) : null;
  } catch {
    return null;
  }
}

export function clearDraft(projectId: string) {
  try {
    localStorage.removeItem(DRAFT_PREFIX + projectId);
  } catch {
    /* storage disabled */
  }
}

function writeDraft(projectId: string) {
  const s = useDesign.getState();
  try {
    localStorage.setItem(DRAFT_PREFIX + projectId, JSON.stringify({ version: s.version, design: s.toJSON(), at: Date.now() }));
  } catch {
    /* storage full or disabled: the server copy is all there is */
  }
}

let inflight: Promise<void> | null = null;

/** Save now (Ctrl+S, or the timer). Resolves when this attempt is over. */
export async function saveNow(): Promise<void> {
  if (inflight) return inflight;
  const s = useDesign.getState();
  if (!s.projectId || s.revision === s.savedRevision || s.saveState === "conflict") return;
  const projectId = s.projectId;
  const rev = s.revision;
  s.markSaving();
  inflight = (async () => {
    try {
      const p = await api<Project>("PUT", `/api/projects/${encodeURIComponent(projectId)}`, {
        version: s.version,
        design: s.toJSON(),
      });
      if (useDesign.getState().projectId !== projectId) return;
      useDesign.getState().markSaved(p.version, rev);
      if (useDesign.getState().revision === rev) clearDraft(projectId);
    } catch (e) {
      if (useDesign.getState().projectId !== projectId) return;
      if (e instanceof ApiError && e.status === 409) {
        useDesign.getState().markSaveError("conflict", e.message);
      } else if (e instanceof ApiError && e.status === 422) {
        const n = e.errors?.length ?? 0;
        useDesign.getState().markSaveError("error",
          `not saved: the design has ${n} problem${n === 1 ? "" : "s"} to fix first`);
      } else {
        useDesign.getState().markSaveError("error", `not saved: ${(e as Error).message}`);
      }
    } finally {
      inflight = null;
    }
  })();
  return inflight;
}

/** Start saving changes of the loaded project; returns the stop function. */
export function startAutosave(delay = 1000): () => void {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let draftTimer: ReturnType<typeof setTimeout> | null = null;
  let retry = 0;
  const schedule = (ms: number) => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(async () => {
      timer = null;
      await saveNow();
      const s = useDesign.getState();
      if (s.saveState === "error") {
        // Network or server trouble: try again, more slowly each time (a 422 waits for an edit).
        if (!/problem/.test(s.saveError ?? "")) schedule(Math.min(30000, 2000 * 2 ** retry++));
      } else {
        retry = 0;
        if (s.revision !== s.savedRevision && s.saveState !== "conflict") schedule(delay);
      }
    }, ms);
  };
  const unsub = useDesign.subscribe((s, prev) => {
    if (s.revision === prev.revision || !s.projectId) return;
    if (s.revision === s.savedRevision) return;
    const pid = s.projectId;
    if (!draftTimer) draftTimer = setTimeout(() => { draftTimer = null; if (useDesign.getState().revision !== useDesign.getState().savedRevision) writeDraft(pid); }, 300);
    if (s.saveState !== "conflict") schedule(delay);
  });
  const beforeUnload = (e: BeforeUnloadEvent) => {
    const s = useDesign.getState();
    if (s.projectId && s.revision !== s.savedRevision) {
      writeDraft(s.projectId);
      e.preventDefault();
    }
  };
  window.addEventListener("beforeunload", beforeUnload);
  return () => {
    unsub();
    if (timer) clearTimeout(timer);
    if (draftTimer) clearTimeout(draftTimer);
    window.removeEventListener("beforeunload", beforeUnload);
  };
}
