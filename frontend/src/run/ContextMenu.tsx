// Right-click "break it" menu for a component or an edge (placeholder).
// Props: kind "component" | "edge"; id = component id, or the edge's index (as a string or
// number) for an edge; x, y = client (page) coordinates of the click; onClose() when done.
export interface ComponentContextMenuProps {
  kind: "component" | "edge";
  id: string | number;
  x: number;
  y: number;
  onClose: () => void;
}
export function ComponentContextMenu(props: ComponentContextMenuProps) {
  return (
    <div
      className="ctx-menu"
      data-testid="context-menu"
      style={{ position: "fixed", left: props.x, top: props.y }}
      onMouseLeave={props.onClose}
    />
  );
}
