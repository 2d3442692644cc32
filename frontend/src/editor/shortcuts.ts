// Editor keyboard shortcuts (window-level while the editor is open). Keys typed into a field
// stay with the field; a modal dialog takes them too.
import { canvasApi } from "../canvas/api";
import { GRID, type EdgeMode, useDesign } from "../store/design";
import { saveNow } from "./autosave";

export const SHORTCUTS: Array<[string, string]> = [
  ["Drag from palette", "Add a component (or click a palette item)"],
  ["Drag from a port ●", "Connect two components"],
  ["Click / Shift+click", "Select / add to the selection"],
  ["Drag on empty canvas", "Box select (Shift adds)"],
  ["Delete / Backspace", "Delete the selection (with its edges)"],
  ["Ctrl+C / Ctrl+X / Ctrl+V", "Copy / cut / paste"],
  ["Ctrl+D", "Duplicate"],
  ["Ctrl+A", "Select everything"],
  ["Ctrl+Z / Ctrl+Shift+Z", "Undo / redo (Ctrl+Y too)"],
  ["Ctrl+S", "Save now"],
  ["1 / 2 / 3", "Selected edges: call / forward / async"],
  ["Wheel, pinch, + / −", "Zoom"],
  ["0", "Zoom to 100%"],
  ["F", "Fit the design to the screen"],
  ["Space+drag, middle drag", "Pan"],
  ["Arrow keys", "Pan (Shift: faster)"],
  ["Alt+arrow keys", "Move the selection one grid step"],
  ["Esc", "Clear the selection"],
  ["?", "This help"],
];

const isTyping = (t: EventTarget | null) => {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
};

export function handleEditorKey(e: KeyboardEvent, toggleHelp: () => void): boolean {
  const mod = e.ctrlKey || e.metaKey;
  const k = e.key;
  if (mod && k.toLowerCase() === "s") { void saveNow(); return true; }
  if (isTyping(e.target)) return false;
  if (document.querySelector(".modal-backdrop")) return false;
  const s = useDesign.getState();
  if (mod) {
    switch (k.toLowerCase()) {
      case "z": if (e.shiftKey) s.redo(); else s.undo(); return true;
      case "y": s.redo(); return true;
      case "c": s.copySelection(); return true;
      case "x": s.copySelection(); s.deleteSelection(); return true;
      case "v": s.paste(); return true;
      case "d": s.duplicateSelection(); return true;
      case "a": s.selectAll(); return true;
      case "=": case "+": canvasApi.zoomIn(); return true;
      case "-": canvasApi.zoomOut(); return true;
      case "0": canvasApi.zoomReset(); return true;
    }
    return false;
  }
  if (e.altKey && k.startsWith("Arrow")) {
    const dx = k === "ArrowLeft" ? -GRID : k === "ArrowRight" ? GRID : 0;
    const dy = k === "ArrowUp" ? -GRID : k === "ArrowDown" ? GRID : 0;
    if (s.selection.components.length) s.moveComponents(s.selection.components, dx, dy);
    return true;
  }
  const step = e.shiftKey ? 240 : 60;
  switch (k) {
    case "Delete": case "Backspace": s.deleteSelection(); return true;
    case "Escape": s.clearSelection(); return true;
    case "?": toggleHelp(); return true;
    case "+": case "=": canvasApi.zoomIn(); return true;
    case "-": case "_": canvasApi.zoomOut(); return true;
    case "0": canvasApi.zoomReset(); return true;
    case "f": case "F": canvasApi.fit(); return true;
    case "ArrowLeft": canvasApi.panBy(step, 0); return true;
    case "ArrowRight": canvasApi.panBy(-step, 0); return true;
    case "ArrowUp": canvasApi.panBy(0, step); return true;
    case "ArrowDown": canvasApi.panBy(0, -step); return true;
    case "1": case "2": case "3": {
      if (!s.selection.edges.length) return false;
      const mode: EdgeMode = k === "1" ? "call" : k === "2" ? "forward" : "async";
      const CALL_ONLY = ["timeout_ms", "retries", "backoff_ms", "jitter", "retry_budget", "breaker"];
      s.update((d) => {
        for (const i of s.selection.edges) {
          const edge = d.edges[i];
          if (!edge) continue;
          if (mode === "call") delete edge.mode;
          else { edge.mode = mode; for (const f of CALL_ONLY) delete edge[f]; }
        }
      });
      return true;
    }
  }
  return false;
}
