// The editor's dialogs: the version conflict choice, the restore-draft banner and the
// keyboard help.
import { useState } from "react";
import { api } from "../api/client";
import type { Project } from "../api/types";
import { navigate } from "../screens/route";
import { useDesign } from "../store/design";
import { Modal } from "../ui/Modal";
import { clearDraft } from "./autosave";
import { SHORTCUTS } from "./shortcuts";

/** Someone saved the project meanwhile: never lose either version silently. */
export function ConflictDialog({ onReload }: { onReload: (p: Project) => void }) {
  const saveState = useDesign((s) => s.saveState);
  const [busy, setBusy] = useState<string | null>(null);
  const [err, setErr] = useState<string | null>(null);
  if (saveState !== "conflict") return null;
  const s = useDesign.getState();
  const pid = s.projectId!;
  const run = (what: string, fn: () => Promise<void>) => async () => {
    setBusy(what);
    setErr(null);
    try {
      await fn();
    } catch (e) {
      setErr((e as Error).message);
    } finally {
      setBusy(null);
    }
  };
  const reload = run("reload", async () => {
    const p = await api<Project>("GET", `/api/projects/${encodeURIComponent(pid)}`);
    clearDraft(pid);
    onReload(p);
  });
  const overwrite = run("overwrite", async () => {
    const cur = await api<Project>("GET", `/api/projects/${encodeURIComponent(pid)}`);
    const st = useDesign.getState();
    const rev = st.revision;
    const p = await api<Project>("PUT", `/api/projects/${encodeURIComponent(pid)}`, { version: cur.version, design: st.toJSON() });
    useDesign.getState().markSaved(p.version, rev);
    clearDraft(pid);
  });
  const copy = run("copy", async () => {
    const st = useDesign.getState();
    const name = `${st.doc.name || "design"} (my copy)`;
    const p = await api<Project>("POST", "/api/projects", { name, design: st.toJSON() });
    clearDraft(pid);
    // The copy holds my version; the original stays as the other person saved it.
    useDesign.getState().markSaved(st.version, st.revision);
    navigate({ name: "editor", projectId: p.id });
  });
  return (
    <Modal title="This project was changed elsewhere" onClose={() => {}} testId="conflict-dialog">
      <div className="modal-body">
        Someone (or another tab) saved a newer version while you were editing, so your changes
        were not saved. Choose what to keep:
      </div>
      <div className="conflict-choices">
        <button className="conflict-choice" disabled={!!busy} data-testid="conflict-reload" onClick={reload}>
          <strong>Reload theirs</strong><span>Discard my unsaved changes and open the saved version.</span>
        </button>
        <button className="conflict-choice" disabled={!!busy} data-testid="conflict-overwrite" onClick={overwrite}>
          <strong>Overwrite with mine</strong><span>Save my version over theirs.</span>
        </button>
        <button className="conflict-choice" disabled={!!busy} data-testid="conflict-copy" onClick={copy}>
          <strong>Copy mine to a new project</strong><span>Keep both: theirs here, mine in a new project.</span>
        </button>
      </div>
      {busy && <div className="field-hint">Working…</div>}
      {err && <div className="field-error">{err}</div>}
    </Modal>
  );
}

export function HelpOverlay({ onClose }: { onClose: () => void }) {
  return (
    <Modal title="Keyboard shortcuts" onClose={onClose} testId="help-overlay">
      <table className="help-table">
        <tbody>
          {SHORTCUTS.map(([k, v]) => (
            <tr key={k}><td><kbd>{k}</kbd></td><td>{v}</td></tr>
          ))}
        </tbody>
      </table>
      <div className="modal-actions">
        <button className="btn btn-primary" data-autofocus onClick={onClose}>Close</button>
      </div>
    </Modal>
  );
}
