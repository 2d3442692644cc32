// Plugins tab: the user's own component types (Lua), listed from GET /api/plugins and edited
// in CodeMirror 6 with Lua highlighting. Save is PUT /api/plugins/:name; a 422 lists errors
// with line numbers, which are marked in the editor. After a save or delete the palette is
// told to reload its types (firePluginsChanged, src/plugins/events.ts).
import { useCallback, useEffect, useRef, useState } from "react";
import { EditorState, StateEffect, StateField, RangeSetBuilder } from "@codemirror/state";
import {
  Decoration,
  EditorView,
  GutterMarker,
  drawSelection,
  gutter,
  highlightActiveLine,
  highlightActiveLineGutter,
  keymap,
  lineNumbers,
  type DecorationSet,
} from "@codemirror/view";
import { defaultKeymap, history, historyKeymap, indentWithTab } from "@codemirror/commands";
import {
  StreamLanguage,
  bracketMatching,
  defaultHighlightStyle,
  indentOnInput,
  syntaxHighlighting,
} from "@codemirror/language";
import { lua } from "@codemirror/legacy-modes/mode/lua";
import { api, ApiError } from "../api/client";
import { toast } from "../ui/toast";
import { firePluginsChanged } from "./events";

interface Plugin {
  name: string;
  source: string;
  updatedAt?: number;
  error?: string | null;
}

export interface PluginProblem {
  line: number | null;
  text: string;
}

/** Problems of a 422 answer: `line` from the entry, else parsed from "file:LINE" in path. */
export function problemsOf(e: ApiError): PluginProblem[] {
  const list = (e.errors ?? []) as Array<{ path?: string; reason?: string; line?: number }>;
  const out = list.map((p) => {
    let line = typeof p.line === "number" ? p.line : null;
    if (line === null && p.path) {
      const m = /:(\d+)(?::|$)/.exec(p.path);
      if (m) line = Number(m[1]);
    }
    return { line, text: p.reason ?? p.path ?? "error" };
  });
  if (!out.length) {
    const m = /:(\d+):\s*(.*)$/.exec(e.message);
    out.push({ line: m ? Number(m[1]) : null, text: e.message });
  }
  return out;
}

export const NAME_RE = /^[a-z_][a-z0-9_]{0,62}$/;

export const PLUGIN_TEMPLATE = `-- A component type of your own: it appears in the palette once saved.
return {
    name = "NAME",
    label = "My component",
    category = "compute",
    icon = "box",
    description = "Does some work, then calls its first outgoing edge.",
    defaults = { replicas = 1 },
    params = {
        workers = std.param("workers", { default = 4 }),
        service_time = std.param("service_time", { default = { dist = "exp", mean_ms = 10 } }),
    },
    behavior = function(req, ctx)
        ctx:work()
        return ctx:forward()
    end,
}
`;

// Error lines: an effect sets them, a field turns them into line decorations and gutter marks.
const setErrors = StateEffect.define<number[]>();
const errorLine = Decoration.line({ class: "cm-error-line" });
class ErrMarker extends GutterMarker {
  toDOM() {
    const s = document.createElement("span");
    s.className = "cm-error-gutter";
    s.textContent = "●";
    return s;
  }
}
const errMarker = new ErrMarker();
const errorField = StateField.define<number[]>({
  create: () => [],
  update(lines, tr) {
    for (const e of tr.effects) if (e.is(setErrors)) return e.value;
    return tr.docChanged ? [] : lines; // an edit clears the marks until the next save
  },
});
function decoFor(state: EditorState): DecorationSet {
  const b = new RangeSetBuilder<Decoration>();
  const lines = [...new Set(state.field(errorField))].sort((a, c) => a - c);
  for (const n of lines) {
    if (n >= 1 && n <= state.doc.lines) {
      const l = state.doc.line(n);
      b.add(l.from, l.from, errorLine);
    }
  }
  return b.finish();
}
const errorDecos = EditorView.decorations.compute([errorField], decoFor);
const errorGutter = gutter({
  class: "cm-error-gutter-col",
  lineMarker(view, line) {
    const n = view.state.doc.lineAt(line.from).number;
    return view.state.field(errorField).includes(n) ? errMarker : null;
  },
  lineMarkerChange: (u) => u.transactions.some((t) => t.effects.some((e) => e.is(setErrors))),
});

export function PluginEditor() {
  const [plugins, setPlugins] = useState<Plugin[]>([]);
  const [name, setName] = useState("my_component");
  const [current, setCurrent] = useState<string | null>(null);
  const [problems, setProblems] = useState<PluginProblem[] | null>(null);
  const [saving, setSaving] = useState(false);
  const [loadError, setLoadError] = useState<string | null>(null);
  const host = useRef<HTMLDivElement>(null);
  const view = useRef<EditorView | null>(null);

  const reload = useCallback(async () => {
    try {
      const r = await api<{ plugins: Plugin[] }>("GET", "/api/plugins");
      setPlugins(r.plugins ?? []);
      setLoadError(null);
    } catch (e) {
      setLoadError((e as Error).message);
    }
  }, []);

  useEffect(() => {
    void reload();
  }, [reload]);

  useEffect(() => {
    if (!host.current) return;
    const v = new EditorView({
      parent: host.current,
      state: EditorState.create({
        doc: PLUGIN_TEMPLATE.replace("NAME", "my_component"),
        extensions: [
          lineNumbers(),
          errorGutter,
          highlightActiveLineGutter(),
          highlightActiveLine(),
          drawSelection(),
          history(),
          indentOnInput(),
          bracketMatching(),
          StreamLanguage.define(lua),
          syntaxHighlighting(defaultHighlightStyle, { fallback: true }),
          keymap.of([
            { key: "Mod-s", run: () => (document.querySelector<HTMLButtonElement>("[data-testid=plugin-save]")?.click(), true) },
            indentWithTab,
            ...defaultKeymap,
            ...historyKeymap,
          ]),
          errorField,
          errorDecos,
          EditorView.theme({ "&": { height: "100%" } }),
        ],
      }),
    });
    view.current = v;
    (window as unknown as { __sdsimPluginView?: EditorView }).__sdsimPluginView = v;
    return () => {
      v.destroy();
      view.current = null;
    };
  }, []);

  const setSource = (src: string) => {
    const v = view.current;
    if (!v) return;
    v.dispatch({ changes: { from: 0, to: v.state.doc.length, insert: src }, effects: setErrors.of([]) });
  };

  const open = (p: Plugin) => {
    setCurrent(p.name);
    setName(p.name);
    setSource(p.source);
    setProblems(p.error ? [{ line: null, text: p.error }] : null);
  };

  const fresh = () => {
    setCurrent(null);
    const n = "my_component";
    setName(n);
    setSource(PLUGIN_TEMPLATE.replace("NAME", n));
    setProblems(null);
  };

  const save = async () => {
    const v = view.current;
    if (!v) return;
    if (!NAME_RE.test(name)) {
      setProblems([{ line: null, text: "the name must be lower-case letters, digits and _ (a letter first)" }]);
      return;
    }
    setSaving(true);
    try {
      await api("PUT", `/api/plugins/${encodeURIComponent(name)}`, { source: v.state.doc.toString() });
      setProblems([]);
      v.dispatch({ effects: setErrors.of([]) });
      setCurrent(name);
      toast.success(`Saved plugin ${name}: the palette has it now`);
      firePluginsChanged();
      void reload();
    } catch (e) {
      if (e instanceof ApiError && e.status === 422) {
        const ps = problemsOf(e);
        setProblems(ps);
        const lines = ps.map((p) => p.line).filter((l): l is number => l !== null);
        v.dispatch({ effects: setErrors.of(lines) });
        if (lines.length) {
          const l = v.state.doc.line(Math.min(lines[0], v.state.doc.lines));
          v.dispatch({ selection: { anchor: l.from }, scrollIntoView: true });
        }
      } else {
        setProblems([{ line: null, text: (e as Error).message }]);
      }
    } finally {
      setSaving(false);
    }
  };

  const remove = async () => {
    if (!current || !confirm(`Delete plugin ${current}?`)) return;
    try {
      await api("DELETE", `/api/plugins/${encodeURIComponent(current)}`);
      toast.info(`Deleted plugin ${current}`);
      firePluginsChanged();
      fresh();
      void reload();
    } catch (e) {
      toast.error(e);
    }
  };

  const gotoLine = (n: number | null) => {
    const v = view.current;
    if (!v || n === null) return;
    const l = v.state.doc.line(Math.max(1, Math.min(n, v.state.doc.lines)));
    v.dispatch({ selection: { anchor: l.from }, scrollIntoView: true });
    v.focus();
  };

  return (
    <div className="plugins" data-testid="plugins">
      <div className="plugins-list">
        <button className="btn btn-sm btn-block" onClick={fresh} data-testid="plugin-new">
          + New plugin
        </button>
        {loadError && <div className="muted small" style={{ padding: 6 }}>{loadError}</div>}
        {plugins.map((p) => (
          <button
            key={p.name}
            className={`plugin-item${current === p.name ? " on" : ""}`}
            onClick={() => open(p)}
            data-testid={`plugin-${p.name}`}
          >
            <span>{p.name}</span>
            {p.error && <span className="err" title={p.error}>●</span>}
          </button>
        ))}
        {!plugins.length && !loadError && <div className="muted small" style={{ padding: 6 }}>No plugins yet.</div>}
      </div>
      <div className="plugins-main">
        <div className="plugins-bar">
          <span className="muted small">name</span>
          <input
            className="input input-sm"
            value={name}
            data-testid="plugin-name"
            onChange={(e) => setName(e.target.value.trim())}
            spellCheck={false}
          />
          <button className="btn btn-sm btn-primary" data-testid="plugin-save" disabled={saving} onClick={() => void save()}>
            {saving ? "Saving…" : "Save"}
          </button>
          {current && (
            <button className="btn btn-sm" onClick={() => void remove()}>
              Delete
            </button>
          )}
          <span className="muted small">Ctrl+S saves · docs/plugin-api.md</span>
        </div>
        <div className="plugins-editor" ref={host} data-testid="plugin-editor" />
        {problems && (
          <div className="plugins-errors" data-testid="plugin-problems">
            {problems.length === 0 ? (
              <span className="pok">Saved: no problems.</span>
            ) : (
              problems.map((p, i) => (
                <div key={i} className="perr" onClick={() => gotoLine(p.line)}>
                  {p.line !== null ? `line ${p.line}: ` : ""}
                  {p.text}
                </div>
              ))
            )}
          </div>
        )}
      </div>
    </div>
  );
}
