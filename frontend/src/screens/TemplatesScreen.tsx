// The template gallery: categories as tabs, a search box (both sent to the server:
// GET /api/templates?category=&q=), and "Use template", which creates a project from the
// template in one request and opens it.
import { useEffect, useMemo, useState } from "react";
import { api, ApiError } from "../api/client";
import type { Project, Template } from "../api/types";
import { useAuth } from "../store/auth";
import { EmptyState, Spinner } from "../ui/EmptyState";
import { toast } from "../ui/toast";
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
                                   { name: t.name });
      void loadMe().catch(() => undefined);
      navigate({ name: "editor", projectId: p.id });
    } catch (e) {
      setBusyId(null);
      toast.error(e);
    }
  };

  const templates = load.state === "ok" ? load.templates : [];
  const grouped = useMemo(() => groupByCategory(templates), [templates]);

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
        grouped.map(([cat, list]) => (
          <section key={cat} className="section">
            <h2 className="section-title">{titleCase(cat)}</h2>
            <div className="card-grid">
              {list.map((t) => (
                <div key={t.id} className="card template-card" data-testid="template-card"
                     data-template-id={t.id}>
                  <div className="template-head">
                    <div className="card-title">{t.name}</div>
                    <span className="badge">{t.components} components</span>
                  </div>
                  <p className="template-desc">{t.description}</p>
                  <div className="template-foot">
                    <span className="muted small">
                      {t.usageCount > 0 ? `Used ${t.usageCount} ${t.usageCount === 1 ? "time" : "times"}` : "New"}
                    </span>
                    <button
                      className="btn btn-primary btn-sm"
                      disabled={busyId !== null}
                      onClick={() => use(t)}
                      data-testid="template-use"
                      aria-label={`Use template ${t.name}`}
                    >
                      {busyId === t.id ? "Creating…" : "Use template"}
                    </button>
                  </div>
                </div>
              ))}
            </div>
          </section>
        ))
      )}
    </div>
  );
}

function uniqueCategories(ts: Template[]): string[] {
  return Array.from(new Set(ts.map((t) => t.category || "other"))).sort();
}

function groupByCategory(ts: Template[]): Array<[string, Template[]]> {
  const m = new Map<string, Template[]>();
  for (const t of ts) {
    const c = t.category || "other";
    if (!m.has(c)) m.set(c, []);
    m.get(c)!.push(t);
  }
  return Array.from(m.entries()).sort(([a], [b]) => a.localeCompare(b));
}

function titleCase(s: string) {
  return s.replace(/[_-]+/g, " ").replace(/\b\w/g, (c) => c.toUpperCase());
}

function SearchIcon() {
  return (
    <svg className="search-icon" width="14" height="14" viewBox="0 0 16 16" aria-hidden="true">
      <circle cx="7" cy="7" r="4.5" stroke="currentColor" strokeWidth="1.5" fill="none" />
      <path d="M10.5 10.5L14 14" stroke="currentColor" strokeWidth="1.5" strokeLinecap="round" />
    </svg>
  );
}
