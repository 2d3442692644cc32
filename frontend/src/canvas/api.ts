// The canvas's commands and shared names, without Konva (the keyboard handler, the palette and
// unit tests import this; the mounted Canvas fills in what needs the stage).
import { type Design, useDesign } from "../store/design";
import type { Rect } from "./scene";
import { NODE_H, NODE_W } from "./theme";
import { fitRect, panBy, toWorld, view, viewport, zoomBy } from "./view";

export interface ContextMenuRequest {
  kind: "component" | "edge";
  id: string | number;
  x: number;
  y: number;
}

export const DRAG_TYPE = "application/x-sdsim-type";

/** World bounds of a design's components (for fit to screen). */
export function designBounds(d: Design): Rect | null {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const c of d.components) {
    const x = typeof c.x === "number" ? c.x : 0;
    const y = typeof c.y === "number" ? c.y : 0;
    x0 = Math.min(x0, x - NODE_W / 2); y0 = Math.min(y0, y - NODE_H / 2);
    x1 = Math.max(x1, x + NODE_W / 2); y1 = Math.max(y1, y + NODE_H / 2);
  }
  return x0 === Infinity ? null : { x: x0, y: y0, w: x1 - x0, h: y1 - y0 };
}

/** Commands for the toolbar and the keyboard (the mounted canvas fills them in). */
export const canvasApi = {
  fit: () => fitRect(designBounds(useDesign.getState().doc)),
  zoomIn: () => zoomBy(1.2),
  zoomOut: () => zoomBy(1 / 1.2),
  zoomReset: () => zoomBy(1 / view.scale),
  panBy,
  /** Centre of the view in world coordinates (where a palette click drops a component). */
  center: () => toWorld(viewport.width / 2, viewport.height / 2),
  /** Client (page) coordinates of a component's centre and output port, for tests. */
  screenPos: (_id: string): { x: number; y: number; port: { x: number; y: number } } | null => null,
  focus: () => {},
};

