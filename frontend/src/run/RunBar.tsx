// The run bar above the editor: workload, duration, seed and speed; start, pause/resume,
// step and stop; the simulated clock with progress; the headline figures of the last frame
// beside the analytic prediction; the scenario ("break it") and export menus.
import { useEffect, useRef, useState } from "react";
import { useDesign } from "../store/design";
import { exposeSim, isLive, isTerminal, useSim } from "../store/sim";
import { simSocket, type WsStatus } from "../api/ws";
import { SPEEDS, useRunSettings } from "./config";
import { fmtClock, fmtMs, fmtNum, fmtPct, fmtUsd } from "./format";
import { WorkloadEditor, workloadSummary } from "./WorkloadEditor";
import { reportSummary } from "./report";
import { ScenarioMenu } from "./ScenarioMenu";
import { ExportMenu } from "../export/ExportMenu";
import "./run.css";

const STATE_LABEL: Record<string, string> = {
  idle: "Ready",
  starting: "Starting…",
  running: "Running",
  paused: "Paused",
  finished: "Finished",
  stopped: "Stopped",
  failed: "Failed",
};

function usePopover() {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const h = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    const k = (e: KeyboardEvent) => e.key === "Escape" && setOpen(false);
    document.addEventListener("mousedown", h);
    document.addEventListener("keydown", k);
    return () => {
      document.removeEventListener("mousedown", h);
      document.removeEventListener("keydown", k);
    };
  }, [open]);
  return { open, setOpen, ref };
}

function useWsStatus(): WsStatus {
  const [s, setS] = useState<WsStatus>(simSocket.status);
  useEffect(() => simSocket.onStatus(setS), []);
  return s;
}

export function RunBar(_props: { projectId?: string }) {
  const state = useSim((s) => s.state);
  const simTime = useSim((s) => s.simTime);
  const duration = useSim((s) => s.duration);
  const liveSpeed = useSim((s) => s.speed);
  const busy = useSim((s) => s.busy);
  const error = useSim((s) => s.error);
  const analysis = useSim((s) => s.analysis);
  const workload = useDesign((s) => s.doc.workload);
  const settings = useRunSettings();
  const wl = usePopover();
  const ws = useWsStatus();

  useEffect(() => {
    exposeSim();
    simSocket.connect();
    // Editing the design after a run: the live overlay would point at the old indices.
    const off = useDesign.subscribe((s, prev) => {
      if (s.doc !== prev.doc) useSim.getState().hideLive();
    });
    // Ctrl+Enter (Cmd+Enter) runs, or pauses and resumes a run.
    const key = (e: KeyboardEvent) => {
      if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
      e.preventDefault();
      const s = useSim.getState();
      if (s.busy || s.state === "starting") return;
      if (s.state === "running") void s.pause();
      else if (s.state === "paused") void s.resume();
      else startRef.current();
    };
    window.addEventListener("keydown", key);
    return () => {
      off();
      window.removeEventListener("keydown", key);
      // Leaving the editor ends its run: it would go on counting against the user's limit.
      const s = useSim.getState();
      if (isLive(s.state)) void s.stop().finally(() => useSim.getState().reset());
      else s.reset();
    };
  }, []);

  const live = isLive(state);
  const report = useSim((s) => s.report);
  const frame = useSim.getState().frame; // re-read on every (throttled) clock change
  // After the end the figures are the whole run's (the report), not the last window's.
  const sum = reportSummary(report);
  const totals = sum
    ? {
        throughput: sum.throughput ?? 0,
        p99Ms: sum.p99 ?? NaN,
        errorRate: sum.errorRate ?? 0,
        costMonth: sum.costMonth ?? 0,
      }
    : frame?.totals;
  const progress = duration > 0 ? Math.min(1, simTime / duration) : 0;
  const speed = live ? liveSpeed : settings.speed;

  const start = () => {
    const doc = useDesign.getState().toJSON();
    void useSim.getState().start(doc, {
      duration: settings.duration,
      seed: settings.seed,
      speed: settings.speed,
    });
  };

  const startRef = useRef(start);
  startRef.current = start;

  const setSpeed = (v: number) => {
    settings.set({ speed: v });
    if (live) void useSim.getState().setSpeed(v);
  };

  return (
    <div className="runbar" data-testid="runbar" data-state={state}>
      <div className="rb-group">
        {!live ? (
          <button
            className="btn btn-primary rb-start"
            data-testid="run-start"
            disabled={busy || state === "starting"}
            onClick={start}
            title="Run the design (Ctrl+Enter)"
          >
            <Icon d={PLAY} /> {isTerminal(state) ? "Run again" : "Run"}
          </button>
        ) : state === "running" ? (
          <button
            className="btn"
            data-testid="run-pause"
            disabled={busy}
            onClick={() => void useSim.getState().pause()}
          >
            <Icon d={PAUSE} /> Pause
          </button>
        ) : (
          <button
            className="btn btn-primary"
            data-testid="run-resume"
            disabled={busy}
            onClick={() => void useSim.getState().resume()}
          >
            <Icon d={PLAY} /> Resume
          </button>
        )}
        <button
          className="btn"
          data-testid="run-step"
          disabled={busy || state !== "paused"}
          title="Step: advance one simulated second (when paused)"
          onClick={() => void useSim.getState().step(1)}
        >
          <Icon d={STEP} /> Step
        </button>
        <button
          className="btn"
          data-testid="run-stop"
          disabled={busy || !live}
          onClick={() => void useSim.getState().stop()}
        >
          <Icon d={STOP} /> Stop
        </button>
      </div>

      <div className="rb-seg" role="group" aria-label="Speed" data-testid="run-speed">
        {SPEEDS.map((s) => (
          <button
            key={s.value}
            className={`rb-seg-btn${speed === s.value ? " on" : ""}`}
            data-testid={`run-speed-${s.label.replace("×", "x")}`}
            onClick={() => setSpeed(s.value)}
            title={s.value === 0 ? "As fast as possible" : `${s.value} simulated s per second`}
          >
            {s.label}
          </button>
        ))}
      </div>

      <div className="rb-pop rb-pop-shrink" ref={wl.ref}>
        <button
          className="btn btn-sm rb-wl"
          data-testid="run-settings"
          onClick={() => wl.setOpen(!wl.open)}
          title="Duration, seed and the traffic sent into the design"
        >
          <span className="rb-wl-text">
            {settings.duration} s · seed {settings.seed} ·{" "}
            <span className="rb-wl-sum">{workloadSummary(workload)}</span>
          </span>
          <span className="rb-caret">▾</span>
        </button>
        {wl.open && (
          <div className="rb-popover">
            <div className="rb-pop-title">Run</div>
            <div className="rb-settings">
              <label className="rb-field" title="Simulated seconds">
                <span>Duration</span>
                <input
                  className="input input-sm rb-num"
                  type="number"
                  min={1}
                  max={3600}
                  data-testid="run-duration"
                  value={settings.duration}
                  disabled={live}
                  onChange={(e) => {
                    const n = Math.round(Number(e.target.value));
                    if (n > 0) settings.set({ duration: n });
                  }}
                />
                <span className="muted">s simulated</span>
              </label>
              <label className="rb-field" title="Random seed: the same seed gives the same run">
                <span>Seed</span>
                <input
                  className="input input-sm rb-num rb-seed"
                  type="number"
                  min={0}
                  data-testid="run-seed"
                  value={settings.seed}
                  disabled={live}
                  onChange={(e) => {
                    const n = Math.round(Number(e.target.value));
                    if (n >= 0) settings.set({ seed: n });
                  }}
                />
              </label>
            </div>
            <div className="rb-pop-title">Workload</div>
            <WorkloadEditor disabled={live} />
            {live && <div className="muted small">Stop the run to change these.</div>}
          </div>
        )}
      </div>

      <div className="rb-spacer" />

      <div className="rb-clock" data-testid="run-clock">
        <div className="rb-clock-top">
          <span className={`rb-state rb-state-${state}`} data-testid="run-state">
            {STATE_LABEL[state] ?? state}
          </span>
          <span className="rb-time">
            {fmtClock(simTime, duration || settings.duration)}
          </span>
          {ws !== "open" && state !== "idle" && (
            <span className="rb-ws" title="Live stream disconnected; reconnecting">
              ● offline
            </span>
          )}
        </div>
        <div className="rb-progress">
          <div className="rb-progress-fill" style={{ width: `${progress * 100}%` }} />
        </div>
      </div>

      <div className="rb-metrics" title={sum ? "Whole run (the report)" : "Last metrics window"}>
        <Metric
          label="Throughput"
          testid="metric-throughput"
          value={totals ? `${fmtNum(totals.throughput)}/s` : "–"}
          pred={analysis?.offered_rps != null ? `${fmtNum(analysis.offered_rps)}/s` : undefined}
        />
        <Metric
          label="p99"
          testid="metric-p99"
          value={totals ? fmtMs(totals.p99Ms) : "–"}
          pred={analysis?.e2e_mean_ms != null ? `mean ${fmtMs(analysis.e2e_mean_ms)}` : undefined}
        />
        <Metric
          label="Errors"
          testid="metric-errors"
          value={totals ? fmtPct(totals.errorRate) : "–"}
          bad={!!totals && totals.errorRate > 0.001}
        />
        <Metric
          label="Cost"
          testid="metric-cost"
          value={totals ? `${fmtUsd(totals.costMonth)}/mo` : "–"}
        />
      </div>

      <ScenarioMenu />
      <ExportMenu />

      {error && state === "failed" && (
        <div className="rb-error" role="alert" data-testid="run-error">
          {error}
        </div>
      )}
    </div>
  );
}

const PLAY = "M4 2.5v11l9-5.5z";
const PAUSE = "M4 2.5h3v11H4zM9 2.5h3v11H9z";
const STEP = "M3 2.5v11l7-5.5zM11 2.5h2.5v11H11z";
const STOP = "M3.5 3.5h9v9h-9z";

function Icon({ d }: { d: string }) {
  return (
    <svg className="rb-ico" width="12" height="12" viewBox="0 0 16 16" aria-hidden="true">
      <path d={d} fill="currentColor" />
    </svg>
  );
}

function Metric(props: { label: string; value: string; testid: string; pred?: string; bad?: boolean }) {
  return (
    <div className={`rb-metric rb-metric-${props.label.toLowerCase()}${props.bad ? " bad" : ""}`}>
      <div className="rb-metric-label">{props.label}</div>
      <div className="rb-metric-value" data-testid={props.testid}>
        {props.value}
      </div>
      {props.pred && <div className="rb-metric-pred" title="Analytic prediction">≈ {props.pred}</div>}
    </div>
  );
}
