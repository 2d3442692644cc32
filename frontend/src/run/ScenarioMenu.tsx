// Scenario picker: the shipped failure scenarios (docs/scenarios.md) applied live to the
// running simulation. The server has no scenario-list API, so the list lives here: each
// preset picks its target from the design the way the scenario file does (the first
// database, the first cache, ...) and becomes one inject control message, starting now.
import { useEffect, useRef, useState } from "react";
import { useDesign, type Design } from "../store/design";
import { isLive, useSim, type InjectBody } from "../store/sim";
import { FAULT } from "./ContextMenu";

export interface ScenarioPreset {
  id: string;
  name: string;
  description: string;
  /** The fault to inject, or null with `why` when the design has nothing fitting. */
  fault: InjectBody | null;
  why?: string;
}

function firstOfType(d: Design, type: string) {
  return d.components.find((c) => c.type === type)?.id;
}

/** The presets for a design (pure, tested). `forS` is how long each fault lasts. */
export function scenarioPresets(d: Design, forS: number): ScenarioPreset[] {
  const db = firstOfType(d, "database");
  const cache = firstOfType(d, "cache");
  const callEdges = d.edges
    .map((e, i) => ({ ...e, index: i }))
    .filter((e) => (e.mode ?? "call") === "call");
  const intoDb = callEdges.find((e) => d.components.find((c) => c.id === e.to)?.type === "database");
  const firstCallee = callEdges[0]?.to;
  const dep = db ?? firstCallee;
  const dbRef = db ? d.components.find((c) => c.id === db) : undefined;
  const lossEdge = intoDb ?? callEdges[0];
  const multi = d.components.filter((c) => (c.replicas ?? 1) > 1);
  const none = (what: string) => ({ fault: null, why: `no ${what} in the design` });
  const base = { duration: forS };
  return [
    {
      id: "db_failover",
      name: "Database failover",
      description: "Crash the primary (replica 0) of the first database: writes fail, reads move.",
      ...(db
        ? { fault: { ...base, kind: FAULT.crash, target: db, ...((dbRef?.replicas ?? 1) > 1 ? { replica: 0 } : {}) } }
        : none("database")),
    },
    {
      id: "dependency_slowdown",
      name: "Dependency slowdown",
      description: `+50 ms per request on ${dep ?? "the first dependency"}.`,
      ...(dep ? { fault: { ...base, kind: FAULT.latency, target: dep, value: 50, multiply: false } } : none("dependency")),
    },
    {
      id: "thread_pool_exhaustion",
      name: "Thread pool exhaustion",
      description: `+200 ms on ${dep ?? "a callee"}: callers hold their workers across the calls.`,
      ...(dep ? { fault: { ...base, kind: FAULT.latency, target: dep, value: 200, multiply: false } } : none("callee")),
    },
    {
      id: "cache_miss_storm",
      name: "Cache miss storm",
      description: `Hit ratio of ${cache ?? "the first cache"} drops to 10%.`,
      ...(cache ? { fault: { ...base, kind: FAULT.hitRatio, target: cache, value: 0.1 } } : none("cache")),
    },
    {
      id: "packet_loss",
      name: "Packet loss",
      description: lossEdge ? `10% of requests over ${lossEdge.from} → ${lossEdge.to} are lost.` : "10% loss on a call edge.",
      ...(lossEdge ? { fault: { ...base, kind: FAULT.loss, target: lossEdge.index, value: 0.1 } } : none("call edge")),
    },
    {
      id: "chaos_monkey",
      name: "Chaos monkey",
      description: "Crash one random replica of a random component that has more than one.",
      ...(multi.length
        ? (() => {
            const c = multi[Math.floor(Math.random() * multi.length)];
            const r = Math.floor(Math.random() * (c.replicas ?? 1));
            return { fault: { ...base, kind: FAULT.crash, target: c.id, replica: r } };
          })()
        : none("component with several replicas")),
    },
  ];
}

export function ScenarioMenu() {
  const [open, setOpen] = useState(false);
  const [forS, setForS] = useState(20);
  const ref = useRef<HTMLDivElement>(null);
  const state = useSim((s) => s.state);
  const live = isLive(state);

  useEffect(() => {
    if (!open) return;
    const h = (e: MouseEvent) => ref.current && !ref.current.contains(e.target as Node) && setOpen(false);
    document.addEventListener("mousedown", h);
    return () => document.removeEventListener("mousedown", h);
  }, [open]);

  const presets = open ? scenarioPresets(useDesign.getState().doc, forS) : [];

  return (
    <div className="rb-pop" ref={ref}>
      <button
        className="btn btn-sm rb-break"
        data-testid="scenario-menu"
        disabled={!live}
        title={live ? "Apply a failure scenario now" : "Start a run first"}
        onClick={() => setOpen(!open)}
      >
        ⚡ Break ▾
      </button>
      {open && (
        <div className="rb-popover rb-popover-right rb-scen">
          <div className="rb-pop-title">Apply a scenario now</div>
          <div className="ctx-dur">
            <span>for</span>
            {[10, 20, 60, 0].map((v) => (
              <button key={v} className={`ctx-chip${forS === v ? " on" : ""}`} onClick={() => setForS(v)}>
                {v === 0 ? "until the end" : `${v} s`}
              </button>
            ))}
          </div>
          {presets.map((p) => (
            <button
              key={p.id}
              className="scen-item"
              data-testid={`scenario-${p.id}`}
              disabled={!p.fault || !live}
              title={p.why}
              onClick={() => {
                if (!p.fault) return;
                void useSim.getState().inject(p.fault);
                setOpen(false);
              }}
            >
              <div className="scen-name">{p.name}</div>
              <div className="scen-desc">{p.fault ? p.description : p.why}</div>
            </button>
          ))}
        </div>
      )}
    </div>
  );
}
