// The bottom panel of the editor: Charts, Report, Console, Plugins (placeholder).
export function BottomPanel(_props: { projectId?: string }) {
  return <div className="bottom-panel" data-testid="bottom-panel" />;
}
