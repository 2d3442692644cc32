// The bottom panel of the editor: Charts, Report, Events, Console, Plugins. The panel switches
// to Report by itself when a run ends (once per run). Heavy tabs mount only while shown.
import { useEffect, useRef, useState } from "react";
import { useSim } from "../store/sim";
import { Charts } from "./Charts";
import { ReportView } from "./ReportView";
import { Events } from "./Events";
import { Console } from "../console/Console";
import { PluginEditor } from "../plugins/PluginEditor";
import "./run.css";

export type BottomTab = "charts" | "report" | "events" | "console" | "plugins";

const TABS: Array<{ id: BottomTab; label: string }> = [
  { id: "charts", label: "Charts" },
  { id: "report", label: "Report" },
  { id: "events", label: "Events" },
  { id: "console", label: "Console" },
  { id: "plugins", label: "Plugins" },
];

export function BottomPanel(_props: { projectId?: string }) {
  const [tab, setTab] = useState<BottomTab>("charts");
  const report = useSim((s) => s.report);
  const id = useSim((s) => s.id);
  const notices = useSim((s) => s.notices.length);
  const shownFor = useRef<string | null>(null);

  // A new report: show it once (the user may switch away afterwards).
  useEffect(() => {
    if (report && id && shownFor.current !== id) {
      shownFor.current = id;
      setTab("report");
    }
  }, [report, id]);

  const slo = report?.slo as { pass?: boolean } | undefined;

  return (
    <div className="bottom-panel" data-testid="bottom-panel">
      <div className="bp-tabs" role="tablist">
        {TABS.map((t) => (
          <button
            key={t.id}
            role="tab"
            aria-selected={tab === t.id}
            className={`bp-tab${tab === t.id ? " on" : ""}`}
            data-testid={`tab-${t.id}`}
            onClick={() => setTab(t.id)}
          >
            {t.label}
            {t.id === "report" && slo && (
              <span className={`bp-badge${slo.pass ? " ok" : ""}`}>{slo.pass ? "✓" : "!"}</span>
            )}
            {t.id === "events" && notices > 0 && <span className="bp-badge">{notices}</span>}
          </button>
        ))}
        <div className="bp-spacer" />
      </div>
      <div className="bp-body" role="tabpanel">
        {tab === "charts" && <Charts />}
        {tab === "report" && <ReportView />}
        {tab === "events" && <Events />}
        {tab === "console" && <Console />}
        {tab === "plugins" && <PluginEditor />}
      </div>
    </div>
  );
}
