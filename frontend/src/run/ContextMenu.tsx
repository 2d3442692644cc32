// "Break it": the right-click menu of a component or an edge on the canvas. Every item is a
// live fault (or a replica change) sent to the running simulation as a control message.
//
// Props (the editor renders it on a Konva "contextmenu" event):
//   kind    "component" | "edge"
//   id      the component's id (kind component) or the edge's index in doc.edges (kind edge;
//           a number, or its decimal string)
//   x, y    client coordinates of the click (e.evt.clientX / clientY); the menu stays on screen
//   onClose called after an item is chosen, on Escape and on a click outside
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { useDesign } from "../store/design";
import { isLive, useSim, type InjectBody } from "../store/sim";
import { getOverlay } from "./overlay";
import "./run.css";

export interface ComponentContextMenuProps {
  kind: "component" | "edge";
  id: string | number;
  x: number;
  y: number;
  onClose: () => void;
}

/** Fault kinds as the inject API names them (docs/design-format.md scenario faults). */
export const FAULT = {
  crash: "crash",
  latency: "latency",
  errors: "error_rate",
  capacity: "capacity",
  hitRatio: "hit_ratio",
  partition: "partition",
  loss: "packet_loss",
} as const;

const DURATIONS = [
  { value: 10, label: "10 s" },
  { value: 30, label: "30 s" },
  { value: 0, label: "until the end" },
];

export function ComponentContextMenu({ kind, id, x, y, onClose }: ComponentContextMenuProps) {
  const ref = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState({ left: x, top: y });
  const [forS, setForS] = useState(30);
  const [custom, setCustom] = useState("");
  const state = useSim((s) => s.state);
  const live = isLive(state);
  const doc = useDesign((s) => s.doc);

  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const r = el.getBoundingClientRect();
    setPos({
      left: Math.max(4, Math.min(x, window.innerWidth - r.width - 4)),
      top: Math.max(4, Math.min(y, window.innerHeight - r.height - 4)),
    });
  }, [x, y]);

  useEffect(() => {
    const down = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) onClose();
    };
    const key = (e: KeyboardEvent) => e.key === "Escape" && onClose();
    // Attach after the opening click has finished bubbling.
    const t = setTimeout(() => document.addEventListener("mousedown", down), 0);
    document.addEventListener("keydown", key);
    return () => {
      clearTimeout(t);
      document.removeEventListener("mousedown", down);
      document.removeEventListener("keydown", key);
    };
  }, [onClose]);

  const edgeIndex = kind === "edge" ? Number(id) : -1;
  const edge = kind === "edge" ? doc.edges[edgeIndex] : undefined;
  const comp = kind === "component" ? doc.components.find((c) => c.id === id) : undefined;
  const liveComp = kind === "component" ? getOverlay().byId[String(id)] : undefined;
  const replicas = liveComp?.replicas || comp?.replicas || 1;
  const title = kind === "edge" ? (edge ? `${edge.from} → ${edge.to}` : `edge ${id}`) : String(id);

  const fire = (f: { kind: string; value?: number; multiply?: boolean; replica?: number }) => {
    const body: InjectBody = {
      ...f,
      target: kind === "edge" ? edgeIndex : String(id),
      duration: forS,
    };
    void useSim.getState().inject(body);
    onClose();
  };
  const scale = (n: number) => {
    void useSim.getState().setReplicas(String(id), Math.max(1, Math.min(10000, n)));
    onClose();
  };

  const customNum = Number(custom);
  const customOk = custom.trim() !== "" && Number.isFinite(customNum) && customNum > 0;

  return (
    <div
      ref={ref}
      className="ctx-menu"
      role="menu"
      data-testid="context-menu"
      style={{ left: pos.left, top: pos.top }}
      onContextMenu={(e) => e.preventDefault()}
    >
      <div className="ctx-head">
        <span className="ctx-title">Break {title}</span>
        {comp && <span className="ctx-type">{comp.type}</span>}
      </div>
      {!live && (
        <div className="ctx-note" data-testid="ctx-not-running">
          Start a run to inject faults live.
        </div>
      )}
      <div className="ctx-dur">
        <span>for</span>
        {DURATIONS.map((d) => (
          <button
            key={d.value}
            className={`ctx-chip${forS === d.value ? " on" : ""}`}
            onClick={() => setForS(d.value)}
          >
            {d.label}
          </button>
        ))}
      </div>
      {kind === "component" ? (
        <>
          <Section label="Crash">
            <Item testid="ctx-crash" disabled={!live} onClick={() => fire({ kind: FAULT.crash })}>
              Crash every replica
            </Item>
            {replicas > 1 && (
              <Item
                testid="ctx-crash-replica"
                disabled={!live}
                onClick={() => fire({ kind: FAULT.crash, replica: 0 })}
              >
                Crash replica 0 of {replicas}
              </Item>
            )}
          </Section>
          <Section label="Slow down">
            <Chips>
              {[2, 5, 10].map((f) => (
                <Chip
                  key={f}
                  testid={`ctx-slow-x${f}`}
                  disabled={!live}
                  onClick={() => fire({ kind: FAULT.latency, value: f, multiply: true })}
                >
                  ×{f}
                </Chip>
              ))}
              {[50, 200].map((ms) => (
                <Chip
                  key={ms}
                  testid={`ctx-slow-ms${ms}`}
                  disabled={!live}
                  onClick={() => fire({ kind: FAULT.latency, value: ms, multiply: false })}
                >
                  +{ms} ms
                </Chip>
              ))}
            </Chips>
          </Section>
          <Section label="Add errors">
            <RateChips testid="ctx-errors" disabled={!live} onPick={(r) => fire({ kind: FAULT.errors, value: r })} />
          </Section>
          <Section label="Capacity">
            <Chips>
              {[0.5, 0.25].map((f) => (
                <Chip
                  key={f}
                  disabled={!live}
                  onClick={() => fire({ kind: FAULT.capacity, value: f })}
                >
                  ×{f}
                </Chip>
              ))}
              {comp?.type === "cache" && (
                <Chip disabled={!live} onClick={() => fire({ kind: FAULT.hitRatio, value: 0.1 })}>
                  hit ratio 10%
                </Chip>
              )}
            </Chips>
          </Section>
          <Section label={`Replicas (${replicas})`}>
            <Chips>
              <Chip testid="ctx-scale-down" disabled={!live || replicas <= 1} onClick={() => scale(replicas - 1)}>
                −1
              </Chip>
              <Chip testid="ctx-scale-up" disabled={!live} onClick={() => scale(replicas + 1)}>
                +1
              </Chip>
              <Chip disabled={!live} onClick={() => scale(replicas * 2)}>
                ×2
              </Chip>
              <input
                className="input input-sm ctx-input"
                type="number"
                min={1}
                placeholder="n"
                value={custom}
                data-testid="ctx-replicas-input"
                onChange={(e) => setCustom(e.target.value)}
                onKeyDown={(e) => e.key === "Enter" && customOk && live && scale(Math.round(customNum))}
              />
              <Chip disabled={!live || !customOk} onClick={() => scale(Math.round(customNum))}>
                Set
              </Chip>
            </Chips>
          </Section>
        </>
      ) : (
        <>
          <Section label="Network">
            <Item testid="ctx-partition" disabled={!live} onClick={() => fire({ kind: FAULT.partition })}>
              Partition (deliver nothing)
            </Item>
          </Section>
          <Section label="Packet loss">
            <RateChips testid="ctx-loss" disabled={!live} onPick={(r) => fire({ kind: FAULT.loss, value: r })} />
          </Section>
        </>
      )}
    </div>
  );
}

function Section({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="ctx-section">
      <div className="ctx-label">{label}</div>
      {children}
    </div>
  );
}

function Item(props: { onClick: () => void; disabled?: boolean; testid?: string; children: React.ReactNode }) {
  return (
    <button
      className="ctx-item"
      role="menuitem"
      disabled={props.disabled}
      data-testid={props.testid}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}

/** 1 %, 10 % and 50 %: the rates offered for injected errors and for packet loss. */
function RateChips(props: { testid: string; disabled: boolean; onPick: (rate: number) => void }) {
  return (
    <Chips>
      {[0.01, 0.1, 0.5].map((r) => (
        <Chip key={r} testid={`${props.testid}-${r * 100}`} disabled={props.disabled} onClick={() => props.onPick(r)}>
          {r * 100}%
        </Chip>
      ))}
    </Chips>
  );
}

function Chips({ children }: { children: React.ReactNode }) {
  return <div className="ctx-chips">{children}</div>;
}

function Chip(props: { onClick: () => void; disabled?: boolean; testid?: string; children: React.ReactNode }) {
  return (
    <button
      className="ctx-chip"
      role="menuitem"
      disabled={props.disabled}
      data-testid={props.testid}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}
