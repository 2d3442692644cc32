import { describe, expect, it, vi } from "vitest";

vi.mock("../api/client", () => ({
  api: vi.fn(async () => ({
    scenarios: [
      { name: "db_failover", title: "Db failover", description: "Crash the primary", params: { at_s: { type: "number" }, for_s: { type: "number" }, target: { type: "string" } } },
      { name: "broken", error: "broken.lua:1: oops" },
      { name: "traffic_spike", description: "More load", params: { factor: { type: "number" }, at_s: { type: "number" } } },
    ],
  })),
  ApiError: class extends Error {},
}));

import { api } from "../api/client";
import { loadScenarios, scenarioBody } from "./ScenarioMenu";

describe("server scenarios", () => {
  it("lists GET /api/scenarios once, without the broken files", async () => {
    const a = await loadScenarios();
    const b = await loadScenarios();
    expect(a?.map((s) => s.name)).toEqual(["db_failover", "traffic_spike"]);
    expect(b).toBe(a);
    expect(api).toHaveBeenCalledTimes(1);
    expect(api).toHaveBeenCalledWith("GET", "/api/scenarios");
  });

  it("applies now, for the chosen time, only the parameters a scenario declares", async () => {
    const [db, spike] = (await loadScenarios())!;
    expect(scenarioBody(db, 20)).toEqual({ name: "db_failover", params: { at_s: 0, for_s: 20 } });
    expect(scenarioBody(db, 0)).toEqual({ name: "db_failover", params: { at_s: 0, for_s: 0 } });
    expect(scenarioBody(spike, 20)).toEqual({ name: "traffic_spike", params: { at_s: 0 } });
  });
});
