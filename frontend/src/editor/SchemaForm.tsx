// Form fields generated from parameter specs (GET /api/components: int, number, string, enum,
// bool, dist, object with min/max/unit/help). An empty field means "the default" and removes
// the key from the document. Problems from the server are shown under the field whose JSONPath
// they name.
import { useEffect, useId, useState } from "react";
import type { ParamSpec } from "../api/types";

export type Path = Array<string | number>;
export type OnChange = (path: Path, value: unknown) => void;

export const DISTS = ["const", "exp", "erlang", "hyperexp", "lognormal", "uniform", "empirical"] as const;

/** The JSONPath of a field: base + .name or [index]. */
export const jpath = (base: string, path: Path) =>
  base + path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("");

/** Copy of obj with value set at path (undefined removes it; objects left empty go too). */
export function setAt<T extends Record<string, unknown>>(obj: T | undefined, path: Path, value: unknown): T {
  const root: Record<string, unknown> = { ...(obj ?? {}) };
  let cur: Record<string, unknown> = root;
  for (let i = 0; i < path.length - 1; i++) {
    const k = String(path[i]);
    const next = cur[k];
    cur[k] = next && typeof next === "object" ? (Array.isArray(next) ? [...next] : { ...next }) : {};
    cur = cur[k] as Record<string, unknown>;
  }
  const last = String(path[path.length - 1]);
  if (value === undefined) delete cur[last];
  else cur[last] = value;
  return root as T;
}

export function describeDefault(spec: ParamSpec): string {
  const d = spec.default;
  if (d === undefined) return spec.type === "object" ? "off" : "none";
  if (spec.type === "dist" && d && typeof d === "object") return distText(d as Record<string, unknown>);
  return String(d);
}

export function distText(d: Record<string, unknown>): string {
  if (d.dist === "empirical") return `empirical (${(d.values_ms as unknown[] | undefined)?.length ?? 0} values)`;
  let s = `${d.dist} ${d.mean_ms ?? "?"} ms`;
  if (d.scv !== undefined) s += ` scv ${d.scv}`;
  if (d.k !== undefined) s += ` k ${d.k}`;
  return s;
}

/** A problem about the number typed, before asking the server. */
export function checkNumber(text: string, spec: ParamSpec): string | null {
  if (text.trim() === "") return null;
  const v = Number(text);
  if (!Number.isFinite(v)) return "not a number";
  if (spec.type === "int" && !Number.isInteger(v)) return "must be a whole number";
  if (spec.min !== undefined) {
    const excl = (spec as ParamSpec & { exclusive_min?: boolean }).exclusive_min;
    if (excl ? v <= spec.min : v < spec.min) return `must be ${excl ? ">" : "≥"} ${spec.min}`;
  }
  if (spec.max !== undefined && v > spec.max) return `must be ≤ ${spec.max}`;
  return null;
}

const prettyName = (k: string) => k.replace(/_(ms|s)$/, "").replace(/_/g, " ");

function Label({ name, spec, htmlFor }: { name: string; spec: ParamSpec; htmlFor: string }) {
  return (
    <label className="pf-label" htmlFor={htmlFor} title={spec.help ?? ""}>
      {prettyName(name)}
      {spec.help && <span className="pf-help" aria-label={spec.help}>?</span>}
    </label>
  );
}

function Errors({ list }: { list: string[] }) {
  if (!list.length) return null;
  return (
    <div className="pf-errors" role="alert">
      {list.map((r, i) => <div key={i}>{r}</div>)}
    </div>
  );
}

/** Text input holding its own draft while typing; commits parsed numbers. */
export function NumberInput({ id, value, spec, onCommit, testId, serverSays = false }: {
  id: string; value: unknown; spec: ParamSpec; onCommit: (v: number | undefined) => void; testId?: string;
  /** The server has a problem for this field: show its sentence rather than ours. */
  serverSays?: boolean;
}) {
  const shown = typeof value === "number" ? String(value) : "";
  const [draft, setDraft] = useState(shown);
  const [focused, setFocused] = useState(false);
  useEffect(() => { if (!focused) setDraft(shown); }, [shown, focused]);
  const local = checkNumber(draft, spec);
  return (
    <>
      <div className="pf-num">
        <input
          id={id}
          className={"pf-input" + (local ? " pf-invalid" : "")}
          inputMode="decimal"
          value={draft}
          placeholder={spec.default !== undefined ? String(spec.default) : spec.type === "int" ? "none" : ""}
          data-testid={testId}
          onFocus={() => setFocused(true)}
          onBlur={() => { setFocused(false); setDraft(shown); }}
          onChange={(e) => {
            const t = e.target.value;
            setDraft(t);
            if (t.trim() === "") onCommit(undefined);
            else if (Number.isFinite(Number(t)) && !(spec.type === "int" && !Number.isInteger(Number(t)))) {
              onCommit(Number(t));
            }
          }}
          onKeyDown={(e) => { if (e.key === "Enter") (e.target as HTMLInputElement).blur(); }}
        />
        {spec.unit && <span className="pf-unit">{spec.unit}</span>}
      </div>
      {local && !serverSays && <div className="pf-errors">{local}</div>}
    </>
  );
}

export function TextInput({ id, value, placeholder, onCommit, testId }: {
  id: string; value: unknown; placeholder?: string; onCommit: (v: string | undefined) => void; testId?: string;
}) {
  return (
    <input
      id={id}
      className="pf-input"
      value={typeof value === "string" ? value : ""}
      placeholder={placeholder}
      data-testid={testId}
      onChange={(e) => onCommit(e.target.value === "" ? undefined : e.target.value)}
    />
  );
}

interface FieldProps {
  name: string;
  spec: ParamSpec;
  value: unknown;
  path: Path;
  base: string;
  onChange: OnChange;
  errors: Record<string, string[]>;
  testPrefix?: string;
}

function DistField({ name, spec, value, path, base, onChange, errors, testPrefix }: FieldProps) {
  const id = useId();
  const d = value && typeof value === "object" ? (value as Record<string, unknown>) : undefined;
  const dist = (d?.dist as string) ?? "";
  const setDist = (nd: string) => {
    if (!nd) return onChange(path, undefined);
    const mean = typeof d?.mean_ms === "number" ? d.mean_ms
      : typeof (spec.default as Record<string, unknown> | undefined)?.mean_ms === "number"
        ? (spec.default as Record<string, number>).mean_ms : 5;
    const next: Record<string, unknown> = { dist: nd };
    if (nd === "empirical") next.values_ms = [mean];
    else next.mean_ms = mean;
    if (nd === "erlang") next.k = 2;
    if (nd === "hyperexp") next.scv = 4;
    if (nd === "lognormal") next.scv = 1;
    if (nd === "uniform") next.scv = 0.1;
    onChange(path, next);
  };
  const sub = (k: string, s: ParamSpec) => (
    <div className="pf-sub" key={k}>
      <Label name={k} spec={s} htmlFor={id + k} />
      <NumberInput id={id + k} value={d?.[k]} spec={s} testId={`${testPrefix}${name}.${k}`}
        serverSays={(errors[jpath(base, [...path, k])] ?? []).length > 0}
        onCommit={(v) => onChange([...path, k], v)} />
      <Errors list={errors[jpath(base, [...path, k])] ?? []} />
    </div>
  );
  return (
    <div className="pf-field">
      <Label name={name} spec={spec} htmlFor={id} />
      <select id={id} className="pf-input" value={dist} data-testid={`${testPrefix}${name}`}
        onChange={(e) => setDist(e.target.value)}>
        <option value="">default ({describeDefault(spec)})</option>
        {DISTS.map((x) => <option key={x} value={x}>{x}</option>)}
      </select>
      <Errors list={errors[jpath(base, path)] ?? []} />
      {d && dist !== "empirical" && sub("mean_ms", { type: "number", min: 0, unit: "ms", help: "mean time" })}
      {d && dist === "erlang" && sub("k", { type: "int", min: 1, max: 1000, help: "phases (scv = 1/k)" })}
      {d && (dist === "hyperexp" || dist === "lognormal" || dist === "uniform") &&
        sub("scv", { type: "number", min: 0, help: "squared coefficient of variation (variance / mean²)" })}
      {d && dist === "empirical" && (
        <div className="pf-sub">
          <label className="pf-label" htmlFor={id + "v"}>values (ms, comma separated)</label>
          <input id={id + "v"} className="pf-input"
            defaultValue={Array.isArray(d.values_ms) ? (d.values_ms as number[]).join(", ") : ""}
            onBlur={(e) => {
              const vals = e.target.value.split(/[\s,;]+/).filter(Boolean).map(Number);
              onChange([...path, "values_ms"], vals);
            }} />
          <Errors list={errors[jpath(base, [...path, "values_ms"])] ?? []} />
        </div>
      )}
    </div>
  );
}

function ObjectField({ name, spec, value, path, base, onChange, errors, testPrefix }: FieldProps) {
  const id = useId();
  const on = value !== undefined && value !== null && typeof value === "object";
  const obj = on ? (value as Record<string, unknown>) : undefined;
  const def = spec.default && typeof spec.default === "object" ? (spec.default as Record<string, unknown>) : null;
  const enable = () => {
    // Start from the type's default object, else fill what is required with a plain value.
    const init: Record<string, unknown> = def ? { ...def } : {};
    for (const [k, f] of Object.entries(spec.fields ?? {})) {
      if ((f as ParamSpec & { required?: boolean }).required && init[k] === undefined) {
        init[k] = f.default ?? (f.type === "int" || f.type === "number" ? Math.max(1, f.min ?? 1) * 100 : "");
      }
    }
    onChange(path, init);
  };
  return (
    <fieldset className={"pf-object" + (on ? " pf-object-on" : "")}>
      <legend>
        <label className="pf-check" title={spec.help ?? ""}>
          <input id={id} type="checkbox" checked={on} data-testid={`${testPrefix}${name}`}
            onChange={(e) => (e.target.checked ? enable() : onChange(path, undefined))} />
          {prettyName(name)}
          {spec.help && <span className="pf-help" aria-label={spec.help}>?</span>}
        </label>
        {!on && <span className="pf-default">{def ? `default: ${Object.entries(def).map(([k, v]) => `${k} ${v}`).join(", ")}` : "off"}</span>}
      </legend>
      <Errors list={errors[jpath(base, path)] ?? []} />
      {on && spec.fields && (
        <SpecFields specs={spec.fields} value={obj} path={path} base={base}
          onChange={onChange} errors={errors} testPrefix={`${testPrefix}${name}.`} />
      )}
    </fieldset>
  );
}

export function Field(props: FieldProps) {
  const { name, spec, value, path, base, onChange, errors, testPrefix = "property-" } = props;
  const id = useId();
  const errs = errors[jpath(base, path)] ?? [];
  const testId = `${testPrefix}${name}`;
  switch (spec.type) {
    case "dist":
      return <DistField {...props} testPrefix={testPrefix} />;
    case "object":
      return <ObjectField {...props} testPrefix={testPrefix} />;
    case "enum":
      return (
        <div className="pf-field">
          <Label name={name} spec={spec} htmlFor={id} />
          <select id={id} className="pf-input" value={typeof value === "string" ? value : ""}
            data-testid={testId} onChange={(e) => onChange(path, e.target.value || undefined)}>
            <option value="">default ({describeDefault(spec)})</option>
            {(spec.values ?? []).map((v) => <option key={v} value={v}>{v}</option>)}
          </select>
          <Errors list={errs} />
        </div>
      );
    case "bool":
      return (
        <div className="pf-field">
          <Label name={name} spec={spec} htmlFor={id} />
          <select id={id} className="pf-input" data-testid={testId}
            value={value === true ? "true" : value === false ? "false" : ""}
            onChange={(e) => onChange(path, e.target.value === "" ? undefined : e.target.value === "true")}>
            <option value="">default ({describeDefault(spec)})</option>
            <option value="true">yes</option>
            <option value="false">no</option>
          </select>
          <Errors list={errs} />
        </div>
      );
    case "string":
      return (
        <div className="pf-field">
          <Label name={name} spec={spec} htmlFor={id} />
          <TextInput id={id} value={value} testId={testId}
            placeholder={spec.default !== undefined ? String(spec.default) : ""}
            onCommit={(v) => onChange(path, v)} />
          <Errors list={errs} />
        </div>
      );
    default:
      return (
        <div className="pf-field">
          <Label name={name} spec={spec} htmlFor={id} />
          <NumberInput id={id} value={value} spec={spec} testId={testId} serverSays={errs.length > 0}
            onCommit={(v) => onChange(path, v)} />
          <Errors list={errs} />
        </div>
      );
  }
}

const ORDER = [
  "mode", "p", "weight", "latency_ms", "workers", "queue", "service_time", "policy", "hit_ratio",
  "read_ratio", "fanout", "error_rate", "cost_per_hour", "timeout_ms", "retries", "retry_budget",
  "jitter", "backoff_ms", "breaker", "rate_limit", "shed", "autoscale",
  "rps", "burst", "enabled", "target_utilization", "min", "max", "base",
];

/** Every field of a spec map; simple fields first, then objects. */
export function SpecFields({ specs, value, path, base, onChange, errors, testPrefix = "property-", only }: {
  specs: Record<string, ParamSpec>;
  value: Record<string, unknown> | undefined;
  path: Path;
  base: string;
  onChange: OnChange;
  errors: Record<string, string[]>;
  testPrefix?: string;
  only?: (name: string) => boolean;
}) {
  const names = Object.keys(specs).filter((n) => !only || only(n));
  // The server's maps have no order: standard names in a fixed order, then the rest by name,
  // objects last.
  const rank = (n: string) => (specs[n].type === "object" ? 2 : 0);
  const pos = (n: string) => { const i = ORDER.indexOf(n); return i < 0 ? ORDER.length : i; };
  names.sort((a, b) => rank(a) - rank(b) || pos(a) - pos(b) || a.localeCompare(b));
  return (
    <>
      {names.map((n) => (
        <Field key={n} name={n} spec={specs[n]} value={value?.[n]} path={[...path, n]} base={base}
          onChange={onChange} errors={errors} testPrefix={testPrefix} />
      ))}
    </>
  );
}
