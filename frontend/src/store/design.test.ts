import { beforeEach, describe, expect, it } from "vitest";
import { snap, uniqueId, useDesign } from "./design";

const base = () => ({
  version: 1,
  name: "t",
  components: [
    { id: "lb", type: "load_balancer", x: 100, y: 100 },
    { id: "api", type: "service", x: 300, y: 100, params: { workers: 4 } },
    { id: "db", type: "database", x: 500, y: 100 },
  ],
  edges: [
    { from: "lb", to: "api" },
    { from: "api", to: "db", p: 0.5 },
  ],
  workload: [{ to: "lb", rps: 100 }],
  scenario: [
    { at_s: 1, fault: "crash", target: "db" },
    { at_s: 2, fault: "partition", target: "api -> db" },
  ],
});

const S = () => useDesign.getState();

beforeEach(() => S().load(base(), "p1", 3));

describe("design store", () => {
  it("loads and exports the document unchanged", () => {
    expect(S().toJSON()).toEqual(base());
    expect(S().version).toBe(3);
    expect(S().saveState).toBe("saved");
  });

  it("undo and redo restore exact documents", () => {
    S().update((d) => {
      d.components[1].params = { workers: 9 };
    });
    S().update((d) => {
      d.name = "renamed";
    });
    expect(S().doc.name).toBe("renamed");
    expect(S().saveState).toBe("unsaved");
    S().undo();
    expect(S().doc.name).toBe("t");
    expect(S().doc.components[1].params).toEqual({ workers: 9 });
    S().undo();
    expect(S().toJSON()).toEqual(base());
    S().undo(); // nothing left: no change
    expect(S().toJSON()).toEqual(base());
    S().redo();
    S().redo();
    expect(S().doc.name).toBe("renamed");
    expect(S().doc.components[1].params).toEqual({ workers: 9 });
  });

  it("a new change clears the redo stack", () => {
    S().update((d) => void (d.name = "a"));
    S().undo();
    S().update((d) => void (d.name = "b"));
    S().redo();
    expect(S().doc.name).toBe("b");
  });

  it("coalesces updates with one key into one undo step", () => {
    S().update((d) => void (d.name = "x"), { coalesce: "name" });
    S().update((d) => void (d.name = "xy"), { coalesce: "name" });
    S().update((d) => void (d.name = "xyz"), { coalesce: "name" });
    expect(S().undoStack.length).toBe(1);
    S().undo();
    expect(S().doc.name).toBe("t");
  });

  it("shares unchanged component objects between versions", () => {
    const before = S().doc;
    S().update((d) => void (d.components[1].replicas = 3));
    const after = S().doc;
    expect(after.components[0]).toBe(before.components[0]);
    expect(after.components[2]).toBe(before.components[2]);
    expect(after.components[1]).not.toBe(before.components[1]);
    expect(after.edges).toBe(before.edges);
  });

  it("an update that changes nothing is not an undo step", () => {
    S().update(() => {});
    expect(S().undoStack.length).toBe(0);
    expect(S().saveState).toBe("saved");
  });

  it("deleting a component removes its edges, workload and faults", () => {
    S().select({ components: ["api"] });
    S().deleteSelection();
    const d = S().doc;
    expect(d.components.map((c) => c.id)).toEqual(["lb", "db"]);
    expect(d.edges).toEqual([]);
    expect(d.workload).toEqual([{ to: "lb", rps: 100 }]);
    expect(d.scenario).toEqual([{ at_s: 1, fault: "crash", target: "db" }]);
    expect(S().selection).toEqual({ components: [], edges: [] });
    S().undo();
    expect(S().toJSON()).toEqual(base());
  });

  it("deleting an edge keeps the components", () => {
    S().select({ edges: [0] });
    S().deleteSelection();
    expect(S().doc.edges).toEqual([{ from: "api", to: "db", p: 0.5 }]);
    expect(S().doc.components.length).toBe(3);
  });

  it("copy and paste gives fresh ids, inner edges, offset positions", () => {
    S().select({ components: ["api", "db"] });
    S().copySelection();
    S().paste();
    const d = S().doc;
    expect(d.components.map((c) => c.id)).toEqual(["lb", "api", "db", "api_2", "db_2"]);
    expect(d.components[3]).toEqual({ id: "api_2", type: "service", x: 340, y: 140, params: { workers: 4 } });
    // only the edge inside the copied set comes along, renamed
    expect(d.edges.slice(2)).toEqual([{ from: "api_2", to: "db_2", p: 0.5 }]);
    expect(S().selection.components).toEqual(["api_2", "db_2"]);
    S().paste();
    expect(S().doc.components.map((c) => c.id).slice(5)).toEqual(["api_3", "db_3"]);
    expect(S().doc.components[5].x).toBe(380);
    S().undo();
    S().undo();
    expect(S().toJSON()).toEqual(base());
  });

  it("moves snap to the 20 px grid", () => {
    expect(snap(0)).toBe(0);
    expect(snap(9)).toBe(0);
    expect(snap(11)).toBe(20);
    expect(snap(-11)).toBe(-20);
    expect(snap(109.9)).toBe(100);
    S().moveComponents(["lb", "api"], 13, -27);
    const d = S().doc;
    expect([d.components[0].x, d.components[0].y]).toEqual([120, 80]);
    expect([d.components[1].x, d.components[1].y]).toEqual([320, 80]);
    expect(d.components[2].x).toBe(500);
    S().setPositions({ db: { x: 531, y: 99 } });
    expect([S().doc.components[2].x, S().doc.components[2].y]).toEqual([540, 100]);
  });

  it("addComponent snaps and picks a unique id", () => {
    const id = S().addComponent("service", 33, 47);
    expect(id).toBe("service");
    const id2 = S().addComponent("service", 0, 0);
    expect(id2).toBe("service_2");
    expect(S().doc.components.find((c) => c.id === "service")).toEqual({ id: "service", type: "service", x: 40, y: 40 });
    expect(S().selection.components).toEqual(["service_2"]);
  });

  it("addEdge refuses self loops and duplicates, keeps mode", () => {
    expect(S().addEdge("db", "db")).toBe(-1);
    expect(S().addEdge("lb", "api")).toBe(0);
    expect(S().doc.edges.length).toBe(2);
    expect(S().addEdge("db", "lb", "async")).toBe(2);
    expect(S().doc.edges[2]).toEqual({ from: "db", to: "lb", mode: "async" });
    expect(S().addEdge("nope", "lb")).toBe(-1);
  });

  it("rename rewrites edges, workload and fault targets", () => {
    expect(S().renameComponent("api", "9bad")).toMatch(/letter/);
    expect(S().renameComponent("api", "db")).toMatch(/taken/);
    expect(S().renameComponent("api", "backend")).toBeNull();
    const d = S().doc;
    expect(d.edges).toEqual([
      { from: "lb", to: "backend" },
      { from: "backend", to: "db", p: 0.5 },
    ]);
    expect(d.scenario![1].target).toBe("backend->db");
    S().select({ components: ["db"] });
    S().renameComponent("db", "store");
    expect(S().selection.components).toEqual(["store"]);
    expect(S().doc.scenario![0].target).toBe("store");
    expect(S().doc.workload).toEqual([{ to: "lb", rps: 100 }]);
  });

  it("save state follows revisions", () => {
    S().update((d) => void (d.name = "a"));
    expect(S().saveState).toBe("unsaved");
    const rev = S().revision;
    S().markSaving();
    S().update((d) => void (d.name = "b")); // edited while saving
    S().markSaved(4, rev);
    expect(S().version).toBe(4);
    expect(S().saveState).toBe("unsaved");
    S().markSaving();
    S().markSaved(5, S().revision);
    expect(S().saveState).toBe("saved");
  });

  it("uniqueId makes ids valid", () => {
    expect(uniqueId("my type", new Set())).toBe("my_type");
    expect(uniqueId("3d", new Set())).toBe("c_3d");
    expect(uniqueId("a_2", new Set(["a_2"]))).toBe("a_3");
  });
});
