// Plugin save errors: line numbers from the 422 entries, or parsed from "file:LINE".
import { describe, expect, it } from "vitest";
import { ApiError } from "../api/client";
import { NAME_RE, problemsOf } from "./PluginEditor";

describe("problemsOf", () => {
  it("takes line from the entry, else from the path", () => {
    const e = new ApiError(422, "the plugin does not load", [
      { path: "my.lua:12", reason: "'end' expected near <eof>", line: 12 },
      { path: "my.lua:7", reason: "unknown param type" },
      { path: "$.params", reason: "no line" },
    ] as never);
    expect(problemsOf(e)).toEqual([
      { line: 12, text: "'end' expected near <eof>" },
      { line: 7, text: "unknown param type" },
      { line: null, text: "no line" },
    ]);
  });

  it("falls back to the message", () => {
    expect(problemsOf(new ApiError(422, "my.lua:3: boom"))).toEqual([{ line: 3, text: "my.lua:3: boom" }]);
  });

  it("accepts plugin names like component type names", () => {
    expect(NAME_RE.test("token_bucket2")).toBe(true);
    expect(NAME_RE.test("Bad-Name")).toBe(false);
    expect(NAME_RE.test("1abc")).toBe(false);
  });
});
