// The run bar above the editor (placeholder; the full version follows).
export function RunBar(_props: { projectId?: string }) {
  return <div className="runbar" data-testid="runbar" />;
}
