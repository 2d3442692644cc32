import { describe, expect, it } from "vitest";
import { parseRoute, routeHash } from "./route";
import { prettyName } from "./TemplatesScreen";

describe("routes", () => {
  it("parses every route and round-trips the hash", () => {
    expect(parseRoute("#/login")).toEqual({ name: "login" });
    expect(parseRoute("#/templates")).toEqual({ name: "templates" });
    expect(parseRoute("")).toEqual({ name: "projects" });
    expect(parseRoute("#/nonsense")).toEqual({ name: "projects" });
    expect(parseRoute("#/p/")).toEqual({ name: "projects" });
    const r = { name: "editor" as const, projectId: "a b/c" };
    expect(routeHash(r)).toBe("#/p/a%20b%2Fc");
    expect(parseRoute(routeHash(r))).toEqual(r);
  });
});

describe("prettyName", () => {
  it("turns identifiers into words and leaves real names alone", () => {
    expect(prettyName("banking_ledger")).toBe("Banking ledger");
    expect(prettyName("ecommerce")).toBe("Ecommerce");
    expect(prettyName("E-commerce")).toBe("E-commerce");
    expect(prettyName("News feed (fan-out on write)")).toBe("News feed (fan-out on write)");
  });
});
