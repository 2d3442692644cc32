// Scenario picker: the shipped failure scenarios (docs/scenarios.md) applied live to the
// running simulation. The list is the server's (GET /api/scenarios: the files of
// scripts/scenarios/), applied by name (POST /api/simulations/:id/scenario, starting now and
// lasting the chosen time); the server runs the file against the run's design, so targets
// are picked as `sdsim run --scenario` picks them. Against a server without that API the
// presets below stand in: each picks its target from the design the way the scenario file
// does and becomes one inject control message.
import { useEffect, useRef, useState } from "react";
import { api } from "../api/client";
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

/** One entry of GET /api/scenarios. */
export interface ServerScenario {
  name: string;
  title?: string;
  description?: string;
  about?: string;
  params?: Record<string, { type: string; default?: unknown; help?: string }>;
  error?: string;
}

let listed: Promise<ServerScenario[] | null> | null = null;

/** The server's scenarios (asked once per page; null when the server has no such API). */
export function loadScenarios(): Promise<ServerScenario[] | null> {
  if (!listed) {
    listed = api<{ scenarios: ServerScenario[] }>("GET", "/api/scenarios")
      .then((r) => (Array.isArray(r.scenarios) ? r.scenarios.filter((s) => !s.error) : null))
      .catch(() => {
        listed = null; // ask again next time
        return null;
      });
  }
  return listed;
}

/** The body that applies a scenario now for forS seconds (0: until the end). */
export function scenarioBody(s: ServerScenario, forS: number) {
  const params: Record<string, number> = {};
  if (s.params?.at_s) params.at_s = 0;
  if (s.params?.for_s) params.for_s = forS;
  return { name: s.name, params };
}

async function applyScenario(s: ServerScenario, forS: number) {
  const sim = useSim.getState();
  if (!sim.id) return;
  try {
    const st = await api<{ scenario?: { summary?: string } }>(
      "POST",
      `/api/simulations/${sim.id}/scenario`,
      scenarioBody(s, forS),
    );
    sim.notify("info", st.scenario?.summary ? `Scenario ${st.scenario.summary}` : `Scenario ${s.name} applied`);
  } catch (e) {
    sim.notify("error", `${s.title ?? s.name}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

export function ScenarioMenu() {
  const [open, setOpen] = useState(false);
  const [forS, setForS] = useState(20);
  const ref = useRef<HTMLDivElement>(null);
  const state = useSim((s) => s.state);
  const live = isLive(state);
  // undefined while asking, null when the server has no list (the presets stand in)
  const [server, setServer] = useState<ServerScenario[] | null | undefined>(undefined);

  useEffect(() => {
    if (!open) return;
    let gone = false;
    void loadScenarios().then((l) => !gone && setServer(l));
    return () => {
      gone = true;
    };
  }, [open]);

  useEffect(() => {
    if (!open) return;
    const h = (e: MouseEvent) => ref.current && !ref.current.contains(e.target as Node) && setOpen(false);
    document.addEventListener("mousedown", h);
    return () => document.removeEventListener("mousedown", h);
  }, [open]);

  const presets = open && server === null ? scenarioPresets(useDesign.getState().doc, forS) : [];

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
        <div className="rb-popover rb-popover-right rb-scen" style={{ maxHeight: "75vh", overflowY: "auto" }}>
          <div className="rb-pop-title">Apply a scenario now</div>
          <div className="ctx-dur">
            <span>for</span>
            {[10, 20, 60, 0].map((v) => (
              <button key={v} className={`ctx-chip${forS === v ? " on" : ""}`} onClick={() => setForS(v)}>
                {v === 0 ? "until the end" : `${v} s`}
              </button>
            ))}
          </div>
          {server === undefined && <div className="scen-desc">Loading the scenarios…</div>}
          {server?.map((s) => (
            <button
              key={s.name}
              className="scen-item"
              data-testid={`scenario-${s.name}`}
              disabled={!live}
              title={s.about}
              onClick={() => {
                void applyScenario(s, forS);
                setOpen(false);
              }}
            >
              <div className="scen-name">{s.title ?? s.name}</div>
              <div className="scen-desc">{s.description}</div>
            </button>
          ))}
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
