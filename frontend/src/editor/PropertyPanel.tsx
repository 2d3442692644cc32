// The right-hand panel: the selected component's fields (id, label, replicas, zone, then its
// type's parameters), the selected edge's fields, or the design's own (name, workload, SLO)
// when nothing is selected. Each change is one undoable update; typing in one field is
// coalesced into one undo step.
import { useEffect, useId, useState } from "react";
import type { ComponentType, ParamSpec } from "../api/types";
import { iconPath, categoryColor } from "../canvas/theme";
import { type Design, type DesignComponent, type DesignEdge, useDesign } from "../store/design";
import { useCatalog } from "./catalog";
import { Field, type Path, SpecFields, TextInput, jpath, setAt } from "./SchemaForm";
import { useValidation } from "./validation";

export const EDGE_SPECS: Record<string, ParamSpec> = {
  mode: { type: "enum", values: ["call", "forward", "async"], default: "call",
    help: "call: the caller waits for the answer; forward: the request moves on; async: a copy is enqueued and the caller is answered at once" },
  p: { type: "number", min: 0, max: 1, default: 1, help: "probability that a request takes this edge (ignored from a load balancer)" },
  weight: { type: "number", min: 0, max: 1e9, default: 1, help: "share for a weighted load balancer" },
  latency_ms: { type: "number", min: 0, max: 1e9, default: 0, unit: "ms", help: "one-way network latency; a call pays it twice" },
  timeout_ms: { type: "number", min: 0, max: 1e9, default: 0, unit: "ms", help: "call only: the caller gives up after this long (0 = waits forever)" },
  retries: { type: "int", min: 0, max: 100, default: 0, help: "call only: extra attempts after a failure" },
  backoff_ms: { type: "object", default: { base: 10, max: 1000 }, help: "call only: attempt n waits min(max, base × 2^(n−1)) ms",
    fields: { base: { type: "number", min: 0, max: 1e9, default: 10, unit: "ms" },
              max: { type: "number", min: 0, max: 1e9, default: 1000, unit: "ms" } } },
  jitter: { type: "bool", default: false, help: "call only: full jitter, uniform in [0, backoff]" },
  retry_budget: { type: "number", min: 0, max: 1, default: 0, help: "call only: retries at most this fraction of calls (0 = no budget)" },
  breaker: { type: "object", help: "call only: circuit breaker on the caller's side",
    fields: { failures: { type: "int", min: 1, max: 1e6, default: 5, help: "consecutive failures that open it" },
              open_ms: { type: "number", min: 0, max: 1e9, default: 5000, unit: "ms", help: "time open before half-open" },
              half_open_probes: { type: "int", min: 1, max: 1e6, default: 1, help: "successes in a row that close it" } } },
};
const CALL_ONLY = new Set(["timeout_ms", "retries", "backoff_ms", "jitter", "retry_budget", "breaker"]);

export const SLO_SPECS: Record<string, ParamSpec> = {
  p99_ms: { type: "number", min: 0, unit: "ms", help: "end-to-end 99th percentile latency objective" },
  error_rate: { type: "number", min: 0, max: 1, help: "end-to-end error rate objective" },
};

const PATTERN_FIELDS: Record<string, Record<string, ParamSpec>> = {
  constant: {},
  ramp: { to_rps: { type: "number", min: 0, unit: "1/s" }, over_s: { type: "number", min: 0, unit: "s" },
          start_s: { type: "number", min: 0, default: 0, unit: "s" } },
  spike: { at_s: { type: "number", min: 0, unit: "s" }, for_s: { type: "number", min: 0, unit: "s" },
           factor: { type: "number", min: 0, max: 1000, help: "rate multiplier during the spike" } },
  diurnal: { period_s: { type: "number", min: 0, unit: "s" }, amplitude: { type: "number", min: 0, max: 10 } },
};

export function Icon({ name, color, size = 16 }: { name?: string; color?: string; size?: number }) {
  return (
    <svg width={size} height={size} viewBox="0 0 24 24" fill="none" stroke={color ?? "currentColor"}
      strokeWidth={2} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d={iconPath(name)} />
    </svg>
  );
}

function Section({ title, children, right }: { title: string; children: React.ReactNode; right?: React.ReactNode }) {
  return (
    <section className="pp-section">
      <div className="pp-section-head"><span>{title}</span>{right}</div>
      {children}
    </section>
  );
}

function Problems({ list }: { list: string[] }) {
  if (!list.length) return null;
  return <div className="pf-errors" role="alert">{list.map((r, i) => <div key={i}>{r}</div>)}</div>;
}

function IdField({ comp }: { comp: DesignComponent }) {
  const [draft, setDraft] = useState(comp.id);
  const [err, setErr] = useState<string | null>(null);
  useEffect(() => { setDraft(comp.id); setErr(null); }, [comp.id]);
  const commit = () => {
    if (draft === comp.id) return;
    const e = useDesign.getState().renameComponent(comp.id, draft);
    setErr(e);
  };
  const id = useId();
  return (
    <div className="pf-field">
      <label className="pf-label" htmlFor={id} title="unique id; edges, workload and faults refer to it">id</label>
      <input id={id} className={"pf-input pf-mono" + (err ? " pf-invalid" : "")} value={draft}
        data-testid="property-id" spellCheck={false}
        onChange={(e) => { setDraft(e.target.value); setErr(null); }}
        onBlur={commit}
        onKeyDown={(e) => {
          if (e.key === "Enter") commit();
          if (e.key === "Escape") { setDraft(comp.id); setErr(null); }
        }} />
      {err && <div className="pf-errors">{err}</div>}
    </div>
  );
}

function ComponentProps({ comp, index, type }: { comp: DesignComponent; index: number; type?: ComponentType }) {
  const byPath = useValidation((s) => s.byPath);
  const base = `$.components[${index}]`;
  const change = (path: Path, value: unknown) =>
    useDesign.getState().update((d) => {
      const i = d.components.findIndex((c) => c.id === comp.id);
      if (i < 0) return;
      let next = setAt(d.components[i], path, value);
      if (next.params && Object.keys(next.params).length === 0) {
        next = { ...next };
        delete next.params;
      }
      d.components[i] = next;
    }, { coalesce: `${comp.id}:${path.join(".")}` });
  const own = byPath[base] ?? [];
  return (
    <>
      <div className="pp-title">
        <span className="pp-icon" style={{ color: categoryColor(type?.category), background: categoryColor(type?.category) + "1c" }}>
          <Icon name={type?.icon} size={18} />
        </span>
        <div className="pp-title-text">
          <div className="pp-name">{comp.label || comp.id}</div>
          <div className="pp-sub">{type?.label ?? comp.type}{type ? ` · ${type.category}` : " · unknown type"}</div>
        </div>
      </div>
      {type?.description && <p className="pp-desc">{type.description}</p>}
      <Problems list={own} />
      <Section title="Component">
        <IdField comp={comp} />
        <Field name="label" spec={{ type: "string", help: "display name (the id stays the reference)" }}
          value={comp.label} path={["label"]} base={base} onChange={change} errors={byPath} />
        <Field name="replicas" spec={{ type: "int", min: 1, max: 10000, default: type?.defaults?.replicas ?? 1, help: "identical copies; arrivals are spread over them by policy" }}
          value={comp.replicas} path={["replicas"]} base={base} onChange={change} errors={byPath} />
        <Field name="zone" spec={{ type: "string", help: "availability zone, for zone faults" }}
          value={comp.zone} path={["zone"]} base={base} onChange={change} errors={byPath} />
      </Section>
      {type && Object.keys(type.params).length > 0 && (
        <Section title="Parameters">
          <SpecFields specs={type.params} value={comp.params} path={["params"]} base={base}
            onChange={change} errors={byPath} />
        </Section>
      )}
      <UnknownParams comp={comp} type={type} base={base} errors={byPath} />
    </>
  );
}

/** Parameters the type does not declare (a plugin removed, a typo in imported JSON). */
function UnknownParams({ comp, type, base, errors }: { comp: DesignComponent; type?: ComponentType; base: string; errors: Record<string, string[]> }) {
  const extra = Object.keys(comp.params ?? {}).filter((k) => !type || !type.params[k]);
  if (!extra.length) return null;
  return (
    <Section title="Unknown parameters">
      {extra.map((k) => (
        <div className="pf-field" key={k}>
          <div className="pf-row">
            <code className="pf-mono">{k}</code>
            <button className="pp-link" onClick={() => useDesign.getState().update((d) => {
              const c = d.components.find((x) => x.id === comp.id);
              if (c?.params) delete c.params[k];
            })}>remove</button>
          </div>
          <Problems list={errors[jpath(base, ["params", k])] ?? []} />
        </div>
      ))}
    </Section>
  );
}

function EdgeProps({ edge, index }: { edge: DesignEdge; index: number }) {
  const byPath = useValidation((s) => s.byPath);
  const base = `$.edges[${index}]`;
  const mode = edge.mode ?? "call";
  const change = (path: Path, value: unknown) =>
    useDesign.getState().update((d) => {
      let next = setAt(d.edges[index], path, value);
      if (path[0] === "mode" && value && value !== "call") {
        // Call-only fields are errors on other modes: drop them with the switch.
        next = { ...next };
        for (const k of CALL_ONLY) delete next[k];
      }
      d.edges[index] = next;
    }, { coalesce: `edge${index}:${path.join(".")}` });
  return (
    <>
      <div className="pp-title">
        <span className="pp-icon pp-icon-edge"><Icon name="split" size={18} /></span>
        <div className="pp-title-text">
          <div className="pp-name pf-mono">{edge.from} → {edge.to}</div>
          <div className="pp-sub">edge #{index} · {mode}</div>
        </div>
      </div>
      <Problems list={byPath[base] ?? []} />
      <Section title="Edge">
        <SpecFields specs={EDGE_SPECS} value={edge} path={[]} base={base} onChange={change} errors={byPath}
          only={(n) => mode === "call" || !CALL_ONLY.has(n)} />
      </Section>
      <div className="pp-actions">
        <button className="btn btn-sm" data-testid="edge-reverse" onClick={() => useDesign.getState().update((d) => {
          const e = d.edges[index];
          if (!d.edges.some((x) => x.from === e.to && x.to === e.from)) d.edges[index] = { ...e, from: e.to, to: e.from };
        })}>Reverse</button>
        <button className="btn btn-sm btn-danger" data-testid="edge-delete" onClick={() => useDesign.getState().deleteSelection()}>Delete edge</button>
      </div>
    </>
  );
}

function WorkloadItem({ w, i, ids, byPath }: { w: Design["workload"] extends (infer T)[] | undefined ? T : never; i: number; ids: string[]; byPath: Record<string, string[]> }) {
  const base = `$.workload[${i}]`;
  const closed = typeof w.users === "number";
  const change = (path: Path, value: unknown) =>
    useDesign.getState().update((d) => {
      if (!d.workload?.[i]) return;
      d.workload[i] = setAt(d.workload[i], path, value);
    }, { coalesce: `w${i}:${path.join(".")}` });
  const setKind = (k: string) => useDesign.getState().update((d) => {
    const cur = d.workload![i];
    const next: Record<string, unknown> = { to: cur.to };
    if (k === "closed") { next.users = 50; next.think_ms = 1000; } else next.rps = 100;
    d.workload![i] = next as typeof cur;
  });
  const ptype = (w.pattern?.type as string) ?? "constant";
  const toId = useId();
  const kindId = useId();
  const patId = useId();
  return (
    <div className="pp-card" data-testid="workload-item">
      <div className="pf-row">
        <div className="pf-field pf-grow">
          <label className="pf-label" htmlFor={toId}>to</label>
          <select id={toId} className="pf-input" value={w.to} data-testid="workload-to"
            onChange={(e) => change(["to"], e.target.value)}>
            {!ids.includes(w.to) && <option value={w.to}>{w.to || "—"}</option>}
            {ids.map((id) => <option key={id} value={id}>{id}</option>)}
          </select>
          <Problems list={byPath[jpath(base, ["to"])] ?? []} />
        </div>
        <div className="pf-field">
          <label className="pf-label" htmlFor={kindId} title="open: arrivals at a rate; closed: a population of users that think and wait">source</label>
          <select id={kindId} className="pf-input" value={closed ? "closed" : "open"} onChange={(e) => setKind(e.target.value)}>
            <option value="open">open (rps)</option>
            <option value="closed">closed (users)</option>
          </select>
        </div>
      </div>
      <Problems list={byPath[base] ?? []} />
      {closed ? (
        <>
          <Field name="users" spec={{ type: "int", min: 1, max: 1e6, help: "users that each think, send one request and wait for its answer" }}
            value={w.users} path={["users"]} base={base} onChange={change} errors={byPath} testPrefix="workload-" />
          <Field name="think_ms" spec={{ type: "number", min: 0, default: 1000, unit: "ms", help: "mean think time between requests" }}
            value={w.think_ms} path={["think_ms"]} base={base} onChange={change} errors={byPath} testPrefix="workload-" />
        </>
      ) : (
        <>
          <Field name="rps" spec={{ type: "number", min: 0, max: 1e7, unit: "1/s", help: "Poisson arrivals at this rate" }}
            value={w.rps} path={["rps"]} base={base} onChange={change} errors={byPath} testPrefix="workload-" />
          <div className="pf-field">
            <label className="pf-label" htmlFor={patId} title="how the rate changes over time">pattern</label>
            <select id={patId} className="pf-input" value={ptype} onChange={(e) => {
              const t = e.target.value;
              change(["pattern"], t === "constant" ? undefined : { type: t });
            }}>
              {[...Object.keys(PATTERN_FIELDS), ...(PATTERN_FIELDS[ptype] ? [] : [ptype])].map((t) => <option key={t} value={t}>{t}</option>)}
            </select>
            <Problems list={byPath[jpath(base, ["pattern"])] ?? []} />
          </div>
          {PATTERN_FIELDS[ptype] && (
            <SpecFields specs={PATTERN_FIELDS[ptype]} value={w.pattern} path={["pattern"]} base={base}
              onChange={change} errors={byPath} testPrefix="workload-" />
          )}
        </>
      )}
      <div className="pp-actions">
        <button className="pp-link" onClick={() => useDesign.getState().update((d) => { d.workload!.splice(i, 1); })}>Remove source</button>
      </div>
    </div>
  );
}

function DesignProps() {
  const doc = useDesign((s) => s.doc);
  const byPath = useValidation((s) => s.byPath);
  const problems = useValidation((s) => s.problems);
  const ids = doc.components.map((c) => c.id);
  const change = (path: Path, value: unknown) =>
    useDesign.getState().update((d) => {
      const next = setAt(d as Record<string, unknown>, path, value) as Design;
      if (next.slo && Object.keys(next.slo).length === 0) delete next.slo;
      Object.assign(d, next);
      for (const k of Object.keys(d)) if (!(k in next)) delete (d as Record<string, unknown>)[k];
    }, { coalesce: `design:${path.join(".")}` });
  const nameId = useId();
  const descId = useId();
  return (
    <>
      <div className="pp-title">
        <span className="pp-icon pp-icon-edge"><Icon name="layers" size={18} /></span>
        <div className="pp-title-text">
          <div className="pp-name">{doc.name || "design"}</div>
          <div className="pp-sub">{doc.components.length} components · {doc.edges.length} edges</div>
        </div>
      </div>
      <Section title="Design">
        <div className="pf-field">
          <label className="pf-label" htmlFor={nameId}>name</label>
          <TextInput id={nameId} value={doc.name} testId="property-design-name" onCommit={(v) => change(["name"], v)} />
          <Problems list={byPath["$.name"] ?? []} />
        </div>
        <div className="pf-field">
          <label className="pf-label" htmlFor={descId}>description</label>
          <textarea id={descId} className="pf-input pf-textarea" value={doc.description ?? ""}
            onChange={(e) => change(["description"], e.target.value || undefined)} />
        </div>
      </Section>
      <Section title="Workload" right={
        <button className="pp-link" data-testid="workload-add" disabled={!ids.length} onClick={() => useDesign.getState().update((d) => {
          const first = d.components.find((c) => c.type === "client") ?? d.components[0];
          (d.workload ??= []).push({ to: first.id, rps: 100 });
        })}>+ Add source</button>}>
        {(doc.workload ?? []).length === 0 && <p className="pp-empty">No traffic yet: add a source that sends requests to a component (usually a client).</p>}
        {(doc.workload ?? []).map((w, i) => <WorkloadItem key={i} w={w} i={i} ids={ids} byPath={byPath} />)}
        <Problems list={byPath["$.workload"] ?? []} />
      </Section>
      <Section title="Service level objective">
        <SpecFields specs={SLO_SPECS} value={doc.slo} path={["slo"]} base="$" onChange={change} errors={byPath} testPrefix="property-slo." />
      </Section>
      {problems.length > 0 && <ProblemList />}
    </>
  );
}

/** Every problem of the design; clicking one selects what it is about. */
export function ProblemList() {
  const problems = useValidation((s) => s.problems);
  const doc = useDesign((s) => s.doc);
  return (
    <Section title={`Problems (${problems.length})`}>
      <ul className="pp-problems" data-testid="problem-list">
        {problems.map((p, i) => (
          <li key={i}>
            <button className="pp-problem" onClick={() => {
              const c = /^\$\.components\[(\d+)\]/.exec(p.path);
              const e = /^\$\.edges\[(\d+)\]/.exec(p.path);
              if (c && doc.components[+c[1]]) useDesign.getState().select({ components: [doc.components[+c[1]].id] });
              else if (e) useDesign.getState().select({ edges: [+e[1]] });
            }}>
              <code>{p.path}</code>
              <span>{p.reason}</span>
            </button>
          </li>
        ))}
      </ul>
    </Section>
  );
}

function MultiProps({ n, edges }: { n: number; edges: number }) {
  return (
    <>
      <div className="pp-title">
        <div className="pp-title-text">
          <div className="pp-name">{n} components{edges ? `, ${edges} edges` : ""} selected</div>
          <div className="pp-sub">Drag to move them together; Ctrl+C / Ctrl+V to copy.</div>
        </div>
      </div>
      <div className="pp-actions">
        <button className="btn btn-sm" onClick={() => useDesign.getState().duplicateSelection()}>Duplicate</button>
        <button className="btn btn-sm btn-danger" onClick={() => useDesign.getState().deleteSelection()}>Delete</button>
      </div>
    </>
  );
}

export function PropertyPanel() {
  const selection = useDesign((s) => s.selection);
  const doc = useDesign((s) => s.doc);
  const catalog = useCatalog((s) => s.byName);
  let body: React.ReactNode;
  if (selection.components.length === 1 && selection.edges.length === 0) {
    const index = doc.components.findIndex((c) => c.id === selection.components[0]);
    const comp = doc.components[index];
    body = comp ? <ComponentProps key={comp.id} comp={comp} index={index} type={catalog[comp.type]} /> : null;
  } else if (selection.edges.length === 1 && selection.components.length === 0) {
    const edge = doc.edges[selection.edges[0]];
    body = edge ? <EdgeProps key={selection.edges[0]} edge={edge} index={selection.edges[0]} /> : null;
  } else if (selection.components.length + selection.edges.length > 1) {
    body = <MultiProps n={selection.components.length} edges={selection.edges.length} />;
  } else {
    body = <DesignProps />;
  }
  return <aside className="props" data-testid="property-panel">{body}</aside>;
}
