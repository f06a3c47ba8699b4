// RateWindow keeps at most `capacity` hit times per key, and only as many as
// came: a rule's threshold must not cost memory up front, per key.
import { describe, expect, it } from "vitest";
import { RateWindow } from "../../src/alert/rate-window.js";

describe("RateWindow", () => {
  it("takes a capacity no array could be allocated for, and spends memory only on hits", () => {
    // Used to be new Array(capacity).fill(0): "RangeError: Invalid array length" at the first match.
    const w = new RateWindow(2 ** 32, 1_000);
    for (let t = 1; t <= 5; t++) w.record(t * 100);
    expect(w.count(500)).toBe(5);
    expect(w.count(1_250)).toBe(3); // hits in (250, 1250]
    expect(w.idle(1_499)).toBe(false);
    expect(w.idle(1_500)).toBe(true);
  });

  it("forgets the oldest hits once full, across the ring's wrap", () => {
    const w = new RateWindow(3, 10_000);
    expect(w.idle(0)).toBe(true);
    for (const t of [1, 2, 3, 4, 5, 6, 7]) w.record(t);
    // Only the newest three are remembered, whatever the window holds.
    expect(w.count(7)).toBe(3);
    expect(w.count(10_005)).toBe(2); // 6 and 7 are within (5, 10005]
    expect(w.idle(10_006)).toBe(false);
    expect(w.idle(10_007)).toBe(true);
  });
});
