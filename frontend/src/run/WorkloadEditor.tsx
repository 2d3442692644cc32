// The workload sources of the design (its `workload` array), edited in place through the
// design store (undoable). Open sources send `rps` with a pattern; closed ones are `users`.
import { useDesign } from "../store/design";

type Source = Record<string, unknown> & { to: string };

const PATTERN_FIELDS: Record<string, Array<{ key: string; label: string; def: number }>> = {
  constant: [],
  ramp: [
    { key: "to_rps", label: "to rps", def: 2000 },
    { key: "over_s", label: "over s", def: 30 },
    { key: "start_s", label: "from s", def: 0 },
  ],
  spike: [
    { key: "at_s", label: "at s", def: 20 },
    { key: "for_s", label: "for s", def: 10 },
    { key: "factor", label: "×", def: 3 },
  ],
  diurnal: [
    { key: "period_s", label: "period s", def: 60 },
    { key: "amplitude", label: "amplitude", def: 0.5 },
  ],
};

/** One line for the run bar: "900 rps → lb · spike". */
export function workloadSummary(w: unknown): string {
  const list = Array.isArray(w) ? (w as Source[]) : [];
  if (!list.length) return "no workload";
  const first = list[0];
  const pat = (first.pattern as { type?: string } | undefined)?.type;
  const what = typeof first.users === "number" ? `${first.users} users` : `${first.rps ?? "?"} rps`;
  const more = list.length > 1 ? ` +${list.length - 1}` : "";
  return `${what} → ${first.to}${pat && pat !== "constant" ? ` · ${pat}` : ""}${more}`;
}

function num(v: string): number | undefined {
  const n = Number(v);
  return v.trim() === "" || !Number.isFinite(n) ? undefined : n;
}

export function WorkloadEditor({ disabled }: { disabled?: boolean }) {
  const doc = useDesign((s) => s.doc);
  const update = useDesign((s) => s.update);
  const list = (Array.isArray(doc.workload) ? doc.workload : []) as Source[];
  const ids = doc.components.map((c) => c.id);

  const edit = (i: number, fn: (w: Source) => void) =>
    update(
      (d) => {
        const w = (d.workload ?? []) as Source[];
        if (w[i]) fn(w[i]);
        d.workload = w as typeof d.workload;
      },
      { coalesce: `workload-${i}` },
    );

  const add = () =>
    update((d) => {
      const to = d.components.find((c) => c.type === "client")?.id ?? d.components[0]?.id;
      if (!to) return;
      d.workload = [...(d.workload ?? []), { to, rps: 100 }];
    });

  const remove = (i: number) =>
    update((d) => {
      d.workload = (d.workload ?? []).filter((_, j) => j !== i);
    });

  return (
    <div className="wl" data-testid="workload-editor">
      {list.length === 0 && <div className="muted small">No traffic yet: add a source.</div>}
      {list.map((w, i) => {
        const closed = typeof w.users === "number";
        const pattern = (w.pattern as Record<string, unknown> | undefined) ?? { type: "constant" };
        const ptype = String(pattern.type ?? "constant");
        return (
          <div className="wl-row" key={i}>
            <label className="wl-field">
              <span>to</span>
              <select
                className="input input-sm"
                value={w.to}
                disabled={disabled}
                onChange={(e) => edit(i, (s) => (s.to = e.target.value))}
              >
                {!ids.includes(w.to) && <option value={w.to}>{w.to}</option>}
                {ids.map((id) => (
                  <option key={id} value={id}>
                    {id}
                  </option>
                ))}
              </select>
            </label>
            <label className="wl-field">
              <span>kind</span>
              <select
                className="input input-sm"
                value={closed ? "users" : "rps"}
                disabled={disabled}
                data-testid={`workload-kind-${i}`}
                onChange={(e) =>
                  edit(i, (s) => {
                    if (e.target.value === "users") {
                      delete s.rps;
                      delete s.pattern;
                      s.users = 100;
                      s.think_ms = 1000;
                    } else {
                      delete s.users;
                      delete s.think_ms;
                      delete s.think_time;
                      s.rps = 100;
                    }
                  })
                }
              >
                <option value="rps">open (rps)</option>
                <option value="users">closed (users)</option>
              </select>
            </label>
            <label className="wl-field">
              <span>{closed ? "users" : "rps"}</span>
              <input
                className="input input-sm wl-num"
                type="number"
                min={closed ? 1 : 0}
                disabled={disabled}
                data-testid={`workload-${closed ? "users" : "rps"}-${i}`}
                value={String(closed ? w.users : (w.rps ?? ""))}
                onChange={(e) => {
                  const n = num(e.target.value);
                  if (n === undefined || n <= 0) return;
                  edit(i, (s) => {
                    if (closed) s.users = Math.round(n);
                    else s.rps = n;
                  });
                }}
              />
            </label>
            {closed ? (
              <label className="wl-field">
                <span>think ms</span>
                <input
                  className="input input-sm wl-num"
                  type="number"
                  min={0}
                  disabled={disabled}
                  value={String(w.think_ms ?? 1000)}
                  onChange={(e) => {
                    const n = num(e.target.value);
                    if (n !== undefined && n >= 0) edit(i, (s) => (s.think_ms = n));
                  }}
                />
              </label>
            ) : (
              <>
                <label className="wl-field">
                  <span>pattern</span>
                  <select
                    className="input input-sm"
                    value={ptype}
                    disabled={disabled}
                    data-testid={`workload-pattern-${i}`}
                    onChange={(e) =>
                      edit(i, (s) => {
                        const t = e.target.value;
                        if (t === "constant") {
                          delete s.pattern;
                          return;
                        }
                        const p: Record<string, unknown> = { type: t };
                        for (const f of PATTERN_FIELDS[t] ?? []) {
                          p[f.key] = f.key === "to_rps" ? Number(s.rps ?? 100) * 2 : f.def;
                        }
                        if (t === "steps") p.steps = [{ at_s: 20, rps: Number(s.rps ?? 100) * 2 }];
                        s.pattern = p;
                      })
                    }
                  >
                    {["constant", "ramp", "spike", "diurnal", "steps"].map((t) => (
                      <option key={t} value={t}>
                        {t}
                      </option>
                    ))}
                  </select>
                </label>
                {(PATTERN_FIELDS[ptype] ?? []).map((f) => (
                  <label className="wl-field" key={f.key}>
                    <span>{f.label}</span>
                    <input
                      className="input input-sm wl-num"
                      type="number"
                      disabled={disabled}
                      value={String(pattern[f.key] ?? "")}
                      onChange={(e) => {
                        const n = num(e.target.value);
                        if (n === undefined || n < 0) return;
                        edit(i, (s) => {
                          s.pattern = { ...(s.pattern as object), [f.key]: n };
                        });
                      }}
                    />
                  </label>
                ))}
                {ptype === "steps" && (
                  <span className="muted small wl-note">
                    {((pattern.steps as unknown[]) ?? []).length} steps (edit in the JSON)
                  </span>
                )}
              </>
            )}
            <button
              className="icon-btn icon-btn-danger"
              title="Remove this source"
              disabled={disabled}
              onClick={() => remove(i)}
            >
              ✕
            </button>
          </div>
        );
      })}
      <button className="btn btn-sm" disabled={disabled} onClick={add} data-testid="workload-add">
        + Add source
      </button>
    </div>
  );
}
