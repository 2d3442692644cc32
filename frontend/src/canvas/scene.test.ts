import { describe, expect, it } from "vitest";
import { clipSegment } from "./draw";
import { Scene, autoLayout, edgeEnds, edgeLabel, generateLargeDesign } from "./scene";
import { NODE_H, NODE_W } from "./theme";
import type { Design } from "../store/design";

const d: Design = {
  version: 1,
  components: [
    { id: "a", type: "service", x: 0, y: 0 },
    { id: "b", type: "database", x: 400, y: 0 },
    { id: "c", type: "cache", x: 400, y: 300 },
  ],
  edges: [
    { from: "a", to: "b", p: 0.3, latency_ms: 0.5 },
    { from: "b", to: "a", mode: "async" },
    { from: "a", to: "c", mode: "forward" },
    { from: "a", to: "zz" },
  ],
};

describe("scene", () => {
  const s = Scene.build(d, {});
  it("builds node and edge views; dangling edges are left out", () => {
    expect(s.nodes.map((n) => n.id)).toEqual(["a", "b", "c"]);
    expect(s.edges.map((e) => e.index)).toEqual([0, 1, 2]);
    expect(s.edges[1].mode).toBe("async");
    expect(s.edges[0].offset).toBe(7); // a->b and b->a drawn side by side
    expect(s.edges[2].offset).toBe(0);
  });

  it("edges start and end on the card borders", () => {
    const [x1, y1, x2, y2] = edgeEnds(s.edges[2]); // a(0,0) -> c(400,300)
    // leaves a's box: on its border (the slope 0.75 exits through the right side)
    expect(Math.abs(x1) <= NODE_W / 2 + 2.001 && Math.abs(y1) <= NODE_H / 2 + 2.001).toBe(true);
    expect(Math.max(Math.abs(x1) - NODE_W / 2, Math.abs(y1) - NODE_H / 2)).toBeCloseTo(2, 5);
    expect(Math.max(Math.abs(x2 - 400) - NODE_W / 2, Math.abs(y2 - 300) - NODE_H / 2)).toBeCloseTo(2, 5);
    expect(y1 / x1).toBeCloseTo(0.75, 6); // along the centre line
  });

  it("hit tests in world coordinates", () => {
    expect(s.hitNode(10, 10)?.id).toBe("a");
    expect(s.hitNode(NODE_W / 2 + 1, 0)).toBeNull();
    expect(s.hitPort(NODE_W / 2, 0, 1)?.id).toBe("a");
    expect(s.hitEdge(200, 30, 6)).toBeNull(); // between the two a<->b lines but 23 px off
    expect(s.hitEdge(200, 150, 6)?.index).toBe(2); // on a -> c
    expect(s.nodesIn({ x: 300, y: -50, w: 200, h: 400 })).toEqual(["b", "c"]);
    expect(s.bounds()).toEqual({ x: -NODE_W / 2, y: -NODE_H / 2, w: 400 + NODE_W, h: 300 + NODE_H });
  });

  it("labels show probability, latency, retries", () => {
    expect(edgeLabel({ from: "a", to: "b", p: 0.3, latency_ms: 0.5 })).toBe("p 0.3 · 0.5 ms");
    expect(edgeLabel({ from: "a", to: "b", retries: 2 })).toBe("↻2");
    expect(edgeLabel({ from: "a", to: "b", p: 1 })).toBe("");
  });

  it("clipSegment keeps the visible part", () => {
    const r = { x: 0, y: 0, w: 100, h: 100 };
    expect(clipSegment(-100, 50, 200, 50, r)).toEqual([1 / 3, 2 / 3]);
    expect(clipSegment(10, 10, 20, 20, r)).toEqual([0, 1]);
    expect(clipSegment(-10, -10, -20, 200, r)).toBeNull();
  });

  it("autoLayout places components without positions by depth", () => {
    const doc: Design = {
      version: 1,
      components: [{ id: "c", type: "client" }, { id: "s", type: "service" }, { id: "d", type: "database", x: 5, y: 5 }],
      edges: [{ from: "c", to: "s" }, { from: "s", to: "d" }],
      workload: [{ to: "c", rps: 1 }],
    };
    expect(autoLayout(doc)).toBe(true);
    expect([doc.components[0].x, doc.components[1].x]).toEqual([100, 300]);
    expect(doc.components[2]).toMatchObject({ x: 5, y: 5 });
    expect(autoLayout(doc)).toBe(false);
  });

  it("the generated benchmark design has the asked sizes and no call cycle", () => {
    const g = generateLargeDesign(1000, 1500);
    expect(g.components.length).toBe(1000);
    expect(g.edges.length).toBe(1500);
    const idx = (id: string) => Number(id.slice(1));
    expect(g.edges.every((e) => idx(e.from) < idx(e.to))).toBe(true);
    expect(new Set(g.edges.map((e) => e.from + ">" + e.to)).size).toBe(1500);
  });
});
