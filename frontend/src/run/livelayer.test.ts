// Geometry and scales of the live layer.
import { describe, expect, it, vi } from "vitest";
vi.mock("react-konva", () => ({ Layer: () => null, Shape: () => null }));
import { borderPoint, fmtRate, visualRate } from "./LiveLayer";

describe("borderPoint", () => {
  const r = { x: 0, y: 0, width: 100, height: 40 }; // centre (50, 20)
  it("leaves through the side facing the target", () => {
    expect(borderPoint(r, 250, 20)).toEqual([100, 20]); // right
    expect(borderPoint(r, 50, -80)).toEqual([50, 0]); // top
    expect(borderPoint(r, -150, 20)).toEqual([0, 20]); // left
  });
  it("hits a corner on the diagonal of the box", () => {
    const [x, y] = borderPoint(r, 150, 60); // direction (100, 40): the corner (100, 40)
    expect(x).toBeCloseTo(100, 9);
    expect(y).toBeCloseTo(40, 9);
  });
  it("stays at the centre for a target at the centre", () => {
    expect(borderPoint(r, 50, 20)).toEqual([50, 20]);
  });
});

describe("fmtRate and visualRate", () => {
  it("formats rates for edge labels", () => {
    expect(fmtRate(0)).toBe("0/s");
    expect(fmtRate(0.42)).toBe("0.4/s");
    expect(fmtRate(35.4)).toBe("35/s");
    expect(fmtRate(1234)).toBe("1.2k/s");
    expect(fmtRate(13567)).toBe("14k/s");
    expect(fmtRate(2.5e6)).toBe("2.5M/s");
  });
  it("grows with the log of the rate and is capped", () => {
    expect(visualRate(0)).toBe(1);
    expect(visualRate(9)).toBeCloseTo(3.5, 9); // 1 + 2.5 * log10(10)
    expect(visualRate(9999)).toBeCloseTo(11, 9); // 1 + 2.5 * 4
    expect(visualRate(1e9)).toBe(12);
    expect(visualRate(100)).toBeGreaterThan(visualRate(10));
  });
});
