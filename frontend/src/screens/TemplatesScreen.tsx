// The template gallery: categories as tabs, a search box (both sent to the server:
// GET /api/templates?category=&q=), and "Use template", which creates a project from the
// template in one request and opens it.
import { useEffect, useRef, useState } from "react";
import { api, ApiError } from "../api/client";
import type { Project, Template } from "../api/types";
import { useAuth } from "../store/auth";
import { cardInfo, type CardInfo } from "../store/projects";
import { EmptyState, Spinner } from "../ui/EmptyState";
import { toast } from "../ui/toast";
import { SearchIcon, Thumb } from "./ProjectsScreen";
import { navigate } from "./route";

type Load =
  | { state: "loading" }
  | { state: "ok"; templates: Template[] }
  | { state: "missing" }
  | { state: "error"; message: string };

export function TemplatesScreen() {
  const [category, setCategory] = useState("");
  const [query, setQuery] = useState("");
  const [q, setQ] = useState(""); // the query actually sent, 200 ms after typing stops
  const [load, setLoad] = useState<Load>({ state: "loading" });
  const [categories, setCategories] = useState<string[]>([]);
  const [busyId, setBusyId] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);
  const loadMe = useAuth((s) => s.loadMe);

  useEffect(() => {
    const t = setTimeout(() => setQ(query.trim()), 200);
    return () => clearTimeout(t);
  }, [query]);

  useEffect(() => {
    let live = true;
    const params = new URLSearchParams();
    if (category) params.set("category", category);
    if (q) params.set("q", q);
    const qs = params.toString();
    api<{ templates: Template[] }>("GET", `/api/templates${qs ? `?${qs}` : ""}`)
      .then((r) => {
        if (!live) return;
        const list = r.templates ?? [];
        setLoad({ state: "ok", templates: list });
        if (!category && !q) setCategories(uniqueCategories(list));
      })
      .catch((e: unknown) => {
        if (!live) return;
        if (e instanceof ApiError && e.status === 404) setLoad({ state: "missing" });
        else setLoad({ state: "error", message: (e as Error).message });
      });
    return () => {
      live = false;
    };
  }, [category, q, attempt]);

  const use = async (t: Template) => {
    setBusyId(t.id);
    try {
      const p = await api<Project>("POST", `/api/templates/${encodeURIComponent(t.id)}/projects`,
                                   { name: prettyName(t.name) });
      void loadMe().catch(() => undefined);
      navigate({ name: "editor", projectId: p.id });
    } catch (e) {
      setBusyId(null);
      toast.error(e);
    }
  };

  const templates = load.state === "ok" ? load.templates : [];

  // Each card sketches its design: fetched once per template (GET /api/templates/:id).
  const [sketches, setSketches] = useState<Record<string, CardInfo>>({});
  const asked = useRef(new Set<string>());
  useEffect(() => {
    for (const t of templates) {
      if (asked.current.has(t.id)) continue;
      asked.current.add(t.id);
      api<Template>("GET", `/api/templates/${encodeURIComponent(t.id)}`)
        .then((full) => setSketches((m) => ({ ...m, [t.id]: cardInfo(0, full.design) })))
        .catch(() => undefined); // the card shows no sketch
    }
  }, [templates]);

  return (
    <div className="page">
      <div className="page-header">
        <div>
          <h1 className="page-title">Templates</h1>
          <div className="page-sub">Start from a working design and change it.</div>
        </div>
        <div className="page-actions">
          <div className="search">
            <SearchIcon />
            <input
              className="input search-input"
              type="search"
              placeholder="Search templates"
              value={query}
              onChange={(e) => setQuery(e.target.value)}
              aria-label="Search templates"
              data-testid="template-search"
            />
          </div>
        </div>
      </div>

      {categories.length > 0 && (
        <div className="tabs" role="tablist" aria-label="Categories">
          {["", ...categories].map((c) => (
            <button
              key={c || "all"}
              role="tab"
              aria-selected={category === c}
              className={`tab ${category === c ? "tab-active" : ""}`}
              onClick={() => setCategory(c)}
              data-testid={`template-category-${c || "all"}`}
            >
              {c ? titleCase(c) : "All"}
            </button>
          ))}
        </div>
      )}

      {load.state === "loading" ? (
        <Spinner label="Loading templates" />
      ) : load.state === "missing" ? (
        <EmptyState title="Templates are not available yet" testId="templates-missing">
          This server has no template gallery. Start from a blank project instead.
        </EmptyState>
      ) : load.state === "error" ? (
        <EmptyState title="Could not load templates" tone="error" testId="templates-error"
                    action={<button className="btn" onClick={() => setAttempt((a) => a + 1)}>
                      Try again</button>}>
          {load.message}
        </EmptyState>
      ) : templates.length === 0 ? (
        <EmptyState title="No templates match" testId="templates-empty">
          {q ? `Nothing matches “${q}”.` : "There are no templates in this category."}
        </EmptyState>
      ) : (
        <div className="card-grid" data-testid="template-list">
          {templates.map((t) => (
            <div key={t.id} className="card template-card" data-testid="template-card"
                 data-template-id={t.id}>
              <div className="card-thumb" aria-hidden="true">
                <Thumb info={sketches[t.id]} />
              </div>
              <div className="template-body">
                <div className="template-head">
                  <div className="card-title" title={prettyName(t.name)}>{prettyName(t.name)}</div>
                  <span className="badge">{titleCase(t.category || "other")}</span>
                </div>
                <p className="template-desc" title={t.description}>{t.description}</p>
                <div className="template-foot">
                  <span className="muted small template-stats">
                    {t.components} components
                    {t.usageCount > 0 && ` · ${t.usageCount} ${t.usageCount === 1 ? "use" : "uses"}`}
                  </span>
                  <button
                    className="btn btn-primary btn-sm"
                    disabled={busyId !== null}
                    onClick={() => use(t)}
                    data-testid="template-use"
                    aria-label={`Use template ${prettyName(t.name)}`}
                  >
                    {busyId === t.id ? "Creating…" : "Use template"}
                  </button>
                </div>
              </div>
            </div>
          ))}
        </div>
      )}
    </div>
  );
}

function uniqueCategories(ts: Template[]): string[] {
  return Array.from(new Set(ts.map((t) => t.category || "other"))).sort();
}

/** Template names are identifiers ("banking_ledger"): shown as words ("Banking ledger"). */
export function prettyName(name: string): string {
  if (/\s/.test(name)) return name;
  if (!name.includes("_") && name !== name.toLowerCase()) return name;
  const words = name.replace(/_+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

function titleCase(s: string) {
  return s.replace(/[_-]+/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());
}
