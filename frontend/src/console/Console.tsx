// Console tab: a Lua REPL in the user's sandbox over the WebSocket ({"type":"console"} ->
// console_result). Enter runs, Shift+Enter adds a line, Up/Down walk the history.
import { useEffect, useRef, useState } from "react";
import { simSocket } from "../api/ws";

interface Entry {
  kind: "in" | "out" | "err";
  text: string;
}

const HISTORY_KEY = "sdsim.console";

function loadHistory(): string[] {
  try {
    return JSON.parse(localStorage.getItem(HISTORY_KEY) ?? "[]") as string[];
  } catch {
    return [];
  }
}

export function Console() {
  const [log, setLog] = useState<Entry[]>([
    { kind: "out", text: "Lua console (sandboxed, with the sim module). Try: print(1 + 1)" },
  ]);
  const [code, setCode] = useState("");
  const [busy, setBusy] = useState(false);
  const hist = useRef<string[]>(loadHistory());
  const pos = useRef(-1);
  const logRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    simSocket.connect();
  }, []);
  useEffect(() => {
    const el = logRef.current;
    if (el) el.scrollTop = el.scrollHeight; // keep the newest line in view
  }, [log]);

  const run = async () => {
    const src = code.trim();
    if (!src || busy) return;
    setCode("");
    pos.current = -1;
    hist.current = [...hist.current.filter((h) => h !== src), src].slice(-100);
    try {
      localStorage.setItem(HISTORY_KEY, JSON.stringify(hist.current));
    } catch {
      /* ignore */
    }
    setLog((l) => [...l, { kind: "in", text: src }]);
    setBusy(true);
    try {
      const r = await simSocket.console(src);
      const add: Entry[] = [];
      if (typeof r.output === "string" && r.output !== "") add.push({ kind: "out", text: r.output.replace(/\n$/, "") });
      if (r.error) add.push({ kind: "err", text: String(r.error) });
      if (!add.length) add.push({ kind: "out", text: "(no output)" });
      setLog((l) => [...l, ...add].slice(-500));
    } catch (e) {
      setLog((l) => [...l, { kind: "err", text: (e as Error).message }]);
    } finally {
      setBusy(false);
    }
  };

  const onKey = (e: React.KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey) {
      e.preventDefault();
      void run();
    } else if (e.key === "ArrowUp" && !code.includes("\n")) {
      const h = hist.current;
      if (!h.length) return;
      e.preventDefault();
      pos.current = pos.current < 0 ? h.length - 1 : Math.max(0, pos.current - 1);
      setCode(h[pos.current]);
    } else if (e.key === "ArrowDown" && pos.current >= 0) {
      e.preventDefault();
      const h = hist.current;
      pos.current = pos.current + 1;
      if (pos.current >= h.length) {
        pos.current = -1;
        setCode("");
      } else setCode(h[pos.current]);
    }
  };

  return (
    <div className="console" data-testid="console">
      <div className="console-log" ref={logRef} data-testid="console-log">
        {log.map((e, i) => (
          <div key={i} className={`console-entry console-${e.kind}`}>
            {e.text}
          </div>
        ))}
      </div>
      <div className="console-input-row">
        <textarea
          className="console-input"
          data-testid="console-input"
          rows={Math.min(6, code.split("\n").length)}
          value={code}
          placeholder="Lua: print(sim ~= nil)"
          spellCheck={false}
          onChange={(e) => setCode(e.target.value)}
          onKeyDown={onKey}
        />
        <button className="btn btn-sm" data-testid="console-run" disabled={busy || !code.trim()} onClick={() => void run()}>
          {busy ? "Running…" : "Run"}
        </button>
        <button className="btn btn-sm" onClick={() => setLog([])}>
          Clear
        </button>
      </div>
    </div>
  );
}
