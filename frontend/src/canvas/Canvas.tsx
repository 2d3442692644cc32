// The design canvas: a react-konva stage with three layers (the graph: grid, edges, nodes;
// the live overlay of a run; interaction feedback), each drawn by custom shapes that paint the
// whole graph in world coordinates.
// Pointer input is handled on the container with hit tests on the scene model, so Konva keeps
// no hit graphs; pan and zoom change the stage transform directly (no React render).
import Konva from "konva";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import { Layer, Shape, Stage } from "react-konva";
import { LiveLayer } from "../run/LiveLayer";
import { getOverlay, setCanvasStage, subscribeOverlay } from "../run/overlay";
import { useCatalog } from "../editor/catalog";
import { useValidation } from "../editor/validation";
import { snap, useDesign } from "../store/design";
import { DRAG_TYPE, type ContextMenuRequest, canvasApi } from "./api";
import { type DrawState, type InteractionState, drawEdges, drawGrid, drawInteraction, drawNodes } from "./draw";
import { Minimap } from "./Minimap";
import { type NodeView, Scene, edgeEnds } from "./scene";
import { NODE_H, NODE_W } from "./theme";
import {
  onView, panBy, recordDraw, setView, toScreen, toWorld, view, viewport, visibleWorld, zoomAt,
} from "./view";

export { DRAG_TYPE, canvasApi, designBounds, type ContextMenuRequest } from "./api";

type Mode =
  | { kind: "none" }
  | { kind: "pan"; sx: number; sy: number; vx: number; vy: number }
  | { kind: "drag"; wx: number; wy: number; nodes: NodeView[]; orig: Array<[number, number]>; moved: boolean; hit: NodeView; additive: boolean }
  | { kind: "box"; wx: number; wy: number; base: string[] }
  | { kind: "connect"; from: NodeView };

const isTyping = (t: EventTarget | null) => {
  const el = t as HTMLElement | null;
  return !!el && (el.tagName === "INPUT" || el.tagName === "TEXTAREA" || el.tagName === "SELECT" || el.isContentEditable);
};

export function Canvas({ onContextMenu }: { onContextMenu?: (m: ContextMenuRequest) => void }) {
  const containerRef = useRef<HTMLDivElement>(null);
  const stageRef = useRef<Konva.Stage>(null);
  const graphLayer = useRef<Konva.Layer>(null);
  const uiLayer = useRef<Konva.Layer>(null);
  const [size, setSize] = useState({ w: viewport.width, h: viewport.height });

  const doc = useDesign((s) => s.doc);
  const selection = useDesign((s) => s.selection);
  const catalog = useCatalog((s) => s.byName);
  const componentErrors = useValidation((s) => s.componentErrors);
  const edgeErrors = useValidation((s) => s.edgeErrors);
  const scene = useMemo(() => Scene.build(doc, catalog), [doc, catalog]);

  const st = useRef<DrawState>({
    scene, selected: new Set(), selectedEdges: new Set(), hover: null, hoverPort: null,
    errorNodes: new Set(), errorEdges: new Set(), hideEdgeLabels: false,
  });
  st.current.scene = scene;
  st.current.errorNodes = componentErrors;
  st.current.errorEdges = edgeErrors;
  const it = useRef<InteractionState>({ box: null, connect: null, drop: null });
  const mode = useRef<Mode>({ kind: "none" });
  const space = useRef(false);
  const drawStart = useRef(0);
  const uiDirty = useRef(false);

  // Drawing happens in one animation frame callback (flush). A view change first only moves
  // the drawn bitmaps with a CSS transform (the compositor does that for free) and the layers
  // are drawn again when the gesture pauses, at least every ~200 ms during a long one: a pan
  // or zoom costs no rasterization per frame, whatever the size of the graph.
  const drawn = useRef({ ...view });
  const pending = useRef({ raf: 0, graph: false, ui: false });
  const settle = useRef<{ timer: ReturnType<typeof setTimeout> | null; since: number }>({ timer: null, since: 0 });

  const flush = useCallback(() => {
    const p = pending.current;
    p.raf = 0;
    const stage = stageRef.current;
    if (!stage) return;
    const d = drawn.current;
    if (d.x !== view.x || d.y !== view.y || d.scale !== view.scale) {
      stage.position({ x: view.x, y: view.y });
      stage.scale({ x: view.scale, y: view.scale });
      stage.content.style.transform = "";
      drawn.current = { ...view };
      p.graph = true;
      p.ui = true;
      // The live overlay (another layer of this stage) follows the new transform too.
      for (const l of stage.getLayers()) if (l !== graphLayer.current && l !== uiLayer.current) l.draw();
    }
    if (p.graph) graphLayer.current?.draw();
    if (p.ui) {
      const ui = it.current;
      if (ui.box || ui.connect || ui.drop || uiDirty.current) {
        uiDirty.current = !!(ui.box || ui.connect || ui.drop);
        uiLayer.current?.draw();
      }
    }
    p.graph = p.ui = false;
  }, []);

  const redraw = useCallback((which: "all" | "graph" | "ui" = "all") => {
    const p = pending.current;
    if (which !== "ui") p.graph = true;
    if (which !== "graph") p.ui = true;
    if (which === "ui") uiDirty.current = true;
    if (!p.raf) p.raf = requestAnimationFrame(flush);
  }, [flush]);

  // Data changed: draw again (after the selection set above is current).
  useEffect(() => {
    st.current.selected = new Set(selection.components);
    st.current.selectedEdges = new Set(selection.edges);
    redraw("all");
  }, [scene, selection, componentErrors, edgeErrors, redraw]);

  // The viewport follows the view object imperatively.
  useEffect(() => {
    const stage = stageRef.current;
    if (stage) {
      stage.position({ x: view.x, y: view.y });
      stage.scale({ x: view.scale, y: view.scale });
      stage.content.style.transformOrigin = "0 0";
      stage.content.style.willChange = "transform";
      drawn.current = { ...view };
    }
    const onChange = () => {
      const stg = stageRef.current;
      if (!stg) return;
      const d = drawn.current;
      const k = view.scale / d.scale;
      stg.content.style.transform = `translate(${view.x - d.x * k}px, ${view.y - d.y * k}px) scale(${k})`;
      const s = settle.current;
      const now = performance.now();
      if (s.timer) clearTimeout(s.timer);
      else s.since = now;
      s.timer = setTimeout(() => {
        s.timer = null;
        if (!pending.current.raf) pending.current.raf = requestAnimationFrame(flush);
      }, Math.max(0, Math.min(80, 200 - (now - s.since))));
    };
    const off = onView(onChange);
    return () => {
      off();
      if (settle.current.timer) clearTimeout(settle.current.timer);
      settle.current.timer = null;
      cancelAnimationFrame(pending.current.raf);
      pending.current.raf = 0;
    };
  }, [flush]);

  // While a run is shown, its live layer labels the edges with rates: ours would collide.
  // Without a run the live layer's canvas is hidden, so the compositor has one fewer to blend.
  useEffect(() => {
    const liveLayer = () =>
      stageRef.current?.getLayers().find((l) => l !== graphLayer.current && l !== uiLayer.current);
    let active = getOverlay().active;
    st.current.hideEdgeLabels = active;
    liveLayer()?.visible(active);
    return subscribeOverlay(() => {
      const now = getOverlay().active;
      if (now === active) return;
      active = now;
      st.current.hideEdgeLabels = now;
      liveLayer()?.visible(now);
      redraw("graph");
    });
  }, [redraw]);

  // The run panel's exports (PNG/PDF) draw this stage.
  useEffect(() => {
    setCanvasStage(stageRef.current);
    return () => setCanvasStage(null);
  }, []);

  // Boxes and edge lines for the live layer (H7), in world coordinates.
  const rectOf = useCallback((id: string) => {
    const n = st.current.scene.byId.get(id);
    return n ? { x: n.x - NODE_W / 2, y: n.y - NODE_H / 2, width: NODE_W, height: NODE_H } : null;
  }, []);
  const edgePoints = useCallback((index: number) => {
    const e = st.current.scene.edgeByIndex.get(index);
    return e ? edgeEnds(e) : null;
  }, []);

  // Size of the stage = size of the container.
  useEffect(() => {
    const el = containerRef.current;
    if (!el) return;
    const measure = () => {
      const w = Math.max(100, el.clientWidth);
      const h = Math.max(100, el.clientHeight);
      viewport.width = w;
      viewport.height = h;
      setSize((s) => (s.w === w && s.h === h ? s : { w, h }));
    };
    measure();
    const ro = new ResizeObserver(measure);
    ro.observe(el);
    return () => ro.disconnect();
  }, []);

  const local = (e: { clientX: number; clientY: number }) => {
    const r = containerRef.current!.getBoundingClientRect();
    return { x: e.clientX - r.left, y: e.clientY - r.top };
  };

  // Test hooks and focus for the toolbar/keyboard.
  useEffect(() => {
    canvasApi.screenPos = (id: string) => {
      const n = st.current.scene.byId.get(id);
      const el = containerRef.current;
      if (!n || !el) return null;
      const r = el.getBoundingClientRect();
      const c = toScreen(n.x, n.y);
      const p = toScreen(n.x + NODE_W / 2, n.y);
      return { x: r.left + c.x, y: r.top + c.y, port: { x: r.left + p.x, y: r.top + p.y } };
    };
    canvasApi.focus = () => containerRef.current?.focus();
  }, []);

  // Wheel: zoom at the pointer (pinch arrives as ctrl+wheel); horizontal or shift scrolls pan.
  useEffect(() => {
    const el = containerRef.current;
    if (!el) return;
    const onWheel = (e: WheelEvent) => {
      e.preventDefault();
      const p = local(e);
      const unit = e.deltaMode === 1 ? 16 : e.deltaMode === 2 ? 400 : 1;
      const dx = e.deltaX * unit, dy = e.deltaY * unit;
      if (e.ctrlKey || e.metaKey) zoomAt(p.x, p.y, Math.exp(-dy * 0.01));
      else if (e.shiftKey) panBy(-dy, -dx);
      else if (Math.abs(dx) > Math.abs(dy) * 0.5 && dx !== 0) panBy(-dx, -dy);
      else zoomAt(p.x, p.y, Math.exp(-dy * 0.0015));
    };
    el.addEventListener("wheel", onWheel, { passive: false });
    return () => el.removeEventListener("wheel", onWheel);
  }, []);

  // Space held: the next drag pans.
  useEffect(() => {
    const down = (e: KeyboardEvent) => {
      if (e.code !== "Space" || isTyping(e.target) || e.repeat) return;
      // Space on a focused button or link belongs to it; the canvas takes it from itself or the page.
      const t = e.target as HTMLElement | null;
      if (t && t !== document.body && t !== containerRef.current) return;
      space.current = true;
      if (containerRef.current && mode.current.kind === "none") containerRef.current.style.cursor = "grab";
      e.preventDefault();
    };
    const up = (e: KeyboardEvent) => {
      if (e.code !== "Space") return;
      space.current = false;
      if (containerRef.current && mode.current.kind === "none") containerRef.current.style.cursor = "";
    };
    window.addEventListener("keydown", down);
    window.addEventListener("keyup", up);
    return () => {
      window.removeEventListener("keydown", down);
      window.removeEventListener("keyup", up);
    };
  }, []);

  const setCursor = (c: string) => {
    if (containerRef.current && containerRef.current.style.cursor !== c) containerRef.current.style.cursor = c;
  };

  const onPointerDown = (e: React.PointerEvent) => {
    containerRef.current?.focus({ preventScroll: true });
    const p = local(e);
    if (e.button === 1 || (e.button === 0 && space.current)) {
      e.preventDefault();
      mode.current = { kind: "pan", sx: p.x, sy: p.y, vx: view.x, vy: view.y };
      setCursor("grabbing");
      containerRef.current?.setPointerCapture(e.pointerId);
      return;
    }
    if (e.button !== 0) return;
    const w = toWorld(p.x, p.y);
    const sc = st.current.scene;
    const store = useDesign.getState();
    const port = sc.hitPort(w.x, w.y, view.scale);
    containerRef.current?.setPointerCapture(e.pointerId);
    if (port) {
      mode.current = { kind: "connect", from: port };
      it.current.connect = { from: port, x: w.x, y: w.y, target: null };
      setCursor("crosshair");
      redraw("ui");
      return;
    }
    const node = sc.hitNode(w.x, w.y);
    if (node) {
      let ids = store.selection.components;
      if (e.shiftKey || e.metaKey || e.ctrlKey) {
        ids = ids.includes(node.id) ? ids.filter((i) => i !== node.id) : [...ids, node.id];
        store.select({ components: ids, edges: store.selection.edges });
      } else if (!ids.includes(node.id)) {
        ids = [node.id];
        store.select({ components: ids });
      }
      if (!ids.includes(node.id)) { mode.current = { kind: "none" }; return; }
      const nodes = ids.map((i) => sc.byId.get(i)).filter((n): n is NodeView => !!n);
      mode.current = {
        kind: "drag", wx: w.x, wy: w.y, nodes, orig: nodes.map((n) => [n.x, n.y]), moved: false,
        hit: node, additive: e.shiftKey || e.metaKey || e.ctrlKey,
      };
      return;
    }
    const edge = sc.hitEdge(w.x, w.y, Math.max(6, 6 / view.scale));
    if (edge) {
      const edges = store.selection.edges;
      if (e.shiftKey) {
        store.select({
          components: store.selection.components,
          edges: edges.includes(edge.index) ? edges.filter((i) => i !== edge.index) : [...edges, edge.index],
        });
      } else {
        store.select({ edges: [edge.index] });
      }
      mode.current = { kind: "none" };
      return;
    }
    const base = e.shiftKey ? store.selection.components : [];
    if (!e.shiftKey) store.clearSelection();
    mode.current = { kind: "box", wx: w.x, wy: w.y, base };
  };

  const onPointerMove = (e: React.PointerEvent) => {
    const p = local(e);
    const m = mode.current;
    const w = toWorld(p.x, p.y);
    switch (m.kind) {
      case "pan":
        setView({ x: m.vx + (p.x - m.sx), y: m.vy + (p.y - m.sy) });
        return;
      case "drag": {
        const dx = w.x - m.wx, dy = w.y - m.wy;
        if (!m.moved && Math.hypot(dx, dy) * view.scale < 3) return;
        m.moved = true;
        setCursor("grabbing");
        m.nodes.forEach((n, i) => {
          n.x = snap(m.orig[i][0] + dx);
          n.y = snap(m.orig[i][1] + dy);
        });
        redraw("graph");
        return;
      }
      case "box": {
        const box = { x: Math.min(m.wx, w.x), y: Math.min(m.wy, w.y), w: Math.abs(w.x - m.wx), h: Math.abs(w.y - m.wy) };
        it.current.box = box;
        st.current.selected = new Set([...m.base, ...st.current.scene.nodesIn(box)]);
        redraw("all");
        return;
      }
      case "connect": {
        const t = st.current.scene.hitNode(w.x, w.y);
        it.current.connect = { from: m.from, x: w.x, y: w.y, target: t && t !== m.from ? t : null };
        redraw("ui");
        return;
      }
      default: {
        if (space.current) return;
        const sc = st.current.scene;
        const port = sc.hitPort(w.x, w.y, view.scale);
        const node = port ? port : sc.hitNode(w.x, w.y);
        const hover = node ? node.id : null;
        const hoverPort = port ? port.id : null;
        setCursor(port ? "crosshair" : node ? "move" : sc.hitEdge(w.x, w.y, Math.max(6, 6 / view.scale)) ? "pointer" : "");
        if (hover !== st.current.hover || hoverPort !== st.current.hoverPort) {
          st.current.hover = hover;
          st.current.hoverPort = hoverPort;
          graphLayer.current?.batchDraw();
        }
      }
    }
  };

  const onPointerUp = (e: React.PointerEvent) => {
    const m = mode.current;
    mode.current = { kind: "none" };
    containerRef.current?.releasePointerCapture?.(e.pointerId);
    setCursor(space.current ? "grab" : "");
    const store = useDesign.getState();
    if (m.kind === "drag" && m.moved) {
      const pos: Record<string, { x: number; y: number }> = {};
      for (const n of m.nodes) pos[n.id] = { x: n.x, y: n.y };
      store.setPositions(pos);
    } else if (m.kind === "drag" && !m.additive && m.nodes.length > 1) {
      // A plain click (no drag) on one of several selected components selects just it.
      store.select({ components: [m.hit.id] });
    } else if (m.kind === "box") {
      const ids = [...st.current.selected];
      it.current.box = null;
      store.select({ components: ids, edges: [] });
      redraw("all");
    } else if (m.kind === "connect") {
      const t = it.current.connect?.target;
      it.current.connect = null;
      if (t) store.addEdge(m.from.id, t.id, "call");
      redraw("ui");
    }
  };

  const onContext = (e: React.MouseEvent) => {
    e.preventDefault();
    const p = local(e);
    const w = toWorld(p.x, p.y);
    const sc = st.current.scene;
    const store = useDesign.getState();
    const node = sc.hitNode(w.x, w.y);
    if (node) {
      if (!store.selection.components.includes(node.id)) store.select({ components: [node.id] });
      onContextMenu?.({ kind: "component", id: node.id, x: e.clientX, y: e.clientY });
      return;
    }
    const edge = sc.hitEdge(w.x, w.y, Math.max(6, 6 / view.scale));
    if (edge) {
      store.select({ edges: [edge.index] });
      onContextMenu?.({ kind: "edge", id: edge.index, x: e.clientX, y: e.clientY });
    }
  };

  const onDragOver = (e: React.DragEvent) => {
    if (!Array.from(e.dataTransfer.types).includes(DRAG_TYPE)) return;
    e.preventDefault();
    e.dataTransfer.dropEffect = "copy";
    const p = local(e);
    const w = toWorld(p.x, p.y);
    it.current.drop = { x: snap(w.x), y: snap(w.y) };
    redraw("ui");
  };
  const onDragLeave = () => {
    it.current.drop = null;
    redraw("ui");
  };
  const onDrop = (e: React.DragEvent) => {
    const type = e.dataTransfer.getData(DRAG_TYPE);
    it.current.drop = null;
    redraw("ui");
    if (!type) return;
    e.preventDefault();
    const p = local(e);
    const w = toWorld(p.x, p.y);
    useDesign.getState().addComponent(type, w.x, w.y);
    containerRef.current?.focus({ preventScroll: true });
  };

  // Layer painters: raw 2D context, stage transform already applied.
  const paintGrid = useCallback((ctx: Konva.Context) => {
    drawStart.current = performance.now();
    drawGrid(ctx._context, view.scale, visibleWorld());
  }, []);
  const paintEdges = useCallback((ctx: Konva.Context) => {
    drawEdges(ctx._context, st.current, view.scale, visibleWorld());
  }, []);
  const paintNodes = useCallback((ctx: Konva.Context) => {
    drawNodes(ctx._context, st.current, view.scale, visibleWorld());
    recordDraw(performance.now() - drawStart.current);
  }, []);
  const paintUi = useCallback((ctx: Konva.Context) => {
    drawInteraction(ctx._context, it.current, view.scale);
  }, []);

  return (
    <div
      ref={containerRef}
      className="canvas"
      data-testid="canvas"
      tabIndex={0}
      role="application"
      aria-label="Design canvas: drag components from the palette; press ? for the shortcuts"
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      onContextMenu={onContext}
      onDragOver={onDragOver}
      onDragLeave={onDragLeave}
      onDrop={onDrop}
      onAuxClick={(e) => e.preventDefault()}
    >
      <Stage ref={stageRef} width={size.w} height={size.h} listening={false}>
        <Layer ref={graphLayer} listening={false}>
          <Shape sceneFunc={paintGrid} listening={false} perfectDrawEnabled={false} />
          <Shape sceneFunc={paintEdges} listening={false} perfectDrawEnabled={false} />
          <Shape sceneFunc={paintNodes} listening={false} perfectDrawEnabled={false} />
        </Layer>
        <LiveLayer rectOf={rectOf} edgePoints={edgePoints} />
        <Layer ref={uiLayer} listening={false}>
          <Shape sceneFunc={paintUi} listening={false} perfectDrawEnabled={false} />
        </Layer>
      </Stage>
      {doc.components.length === 0 && (
        <div className="canvas-empty">
          <div className="canvas-empty-title">Drag a component here</div>
          <div>from the palette on the left, or click one to place it in the middle.</div>
        </div>
      )}
      <Minimap scene={scene} />
    </div>
  );
}
