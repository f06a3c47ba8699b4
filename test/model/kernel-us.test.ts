// kernelUs without a BigInt below 2^53 ns: it must agree with the exact
// bigint division everywhere, at the edges of the double fast path too.
import { describe, expect, test } from "vitest";
import { kernelUs } from "../../src/model/mod.js";

const exact = (ns: bigint) => Number(ns / 1000n);
const TWO_53 = 1n << 53n;

describe("kernelUs", () => {
  test.each([0n, 1n, 999n, 1000n, 1001n, 5_353_589_863_372n, TWO_53 - 1n, TWO_53 - 1000n, TWO_53 - 999n, TWO_53, TWO_53 + 1n, 9_100_000_000_999_999_999n, (1n << 64n) - 1n])(
    "%s ns",
    (ns) => expect(kernelUs(ns)).toBe(exact(ns)),
  );

  test("a ns short of every µs boundary up to 2^53 floors, never rounds up", () => {
    for (let k = 0n; k < 200n; k++) {
      const ns = TWO_53 - k * 7_919_113n - 1n;
      const below = ns - (ns % 1000n) + 999n;
      expect(kernelUs(below)).toBe(exact(below));
      expect(kernelUs(ns)).toBe(exact(ns));
    }
  });
});
