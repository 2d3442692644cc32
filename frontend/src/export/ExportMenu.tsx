// The Export menu of the run bar: PNG, PDF (picture + report), JSON; and Import JSON.
import { useEffect, useRef, useState } from "react";
import { useSim } from "../store/sim";
import { toast } from "../ui/toast";
import { exportJson, exportPdf, exportPng, ImportError, importJsonText, pickFile } from "./export";

export function ExportMenu() {
  const [open, setOpen] = useState(false);
  const [problems, setProblems] = useState<{ title: string; list: string[] } | null>(null);
  const ref = useRef<HTMLDivElement>(null);

  useEffect(() => {
    if (!open && !problems) return;
    const h = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) {
        setOpen(false);
        setProblems(null);
      }
    };
    document.addEventListener("mousedown", h);
    return () => document.removeEventListener("mousedown", h);
  }, [open, problems]);

  const run = (fn: () => void | Promise<void>) => async () => {
    setOpen(false);
    try {
      await fn();
    } catch (e) {
      toast.error(`Export failed: ${(e as Error).message}`);
    }
  };

  const doImport = async () => {
    setOpen(false);
    const f = await pickFile();
    if (!f) return;
    try {
      const doc = await importJsonText(await f.text());
      toast.success(`Imported ${doc.name ?? f.name}: ${doc.components.length} components`);
    } catch (e) {
      if (e instanceof ImportError) {
        setProblems({ title: `Cannot import ${f.name}: ${e.message}`, list: e.problems });
      } else {
        toast.error(`Import failed: ${(e as Error).message}`);
      }
    }
  };

  return (
    <div className="rb-pop" ref={ref}>
      <button className="btn btn-sm" data-testid="export-menu" onClick={() => setOpen(!open)}>
        Export ▾
      </button>
      {open && (
        <div className="rb-popover rb-popover-right rb-menu" role="menu">
          <button className="menu-item" data-testid="export-png" onClick={run(exportPng)}>
            Canvas as PNG
          </button>
          <button
            className="menu-item"
            data-testid="export-pdf"
            onClick={run(() => exportPdf(useSim.getState().report))}
          >
            PDF (canvas + report)
          </button>
          <button className="menu-item" data-testid="export-json" onClick={run(exportJson)}>
            Design as JSON
          </button>
          <div className="menu-sep" />
          <button className="menu-item" data-testid="import-json" onClick={() => void doImport()}>
            Import JSON…
          </button>
        </div>
      )}
      {problems && (
        <div className="rb-popover rb-popover-right rb-problems" role="alert" data-testid="import-errors">
          <div className="rb-pop-title">{problems.title}</div>
          <ul>
            {problems.list.slice(0, 12).map((p, i) => (
              <li key={i}>
                <code>{p}</code>
              </li>
            ))}
            {problems.list.length > 12 && <li>…and {problems.list.length - 12} more</li>}
          </ul>
          <button className="btn btn-sm" onClick={() => setProblems(null)}>
            Close
          </button>
        </div>
      )}
    </div>
  );
}
