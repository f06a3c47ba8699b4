// The Bloom filter never hides a key it holds, and wrongly admits about as
// few as its documented rate says, at the documented size.
import { describe, expect, it } from "vitest";
import { DEFAULT_BLOOM_BITS_PER_KEY, bloomMayHave, buildBloom } from "../../../src/store/blocks/mod.js";

describe("block Bloom filter", () => {
  const keys = new Set(Array.from({ length: 20_000 }, (_, i) => `sock:node-${i % 3}/ffff8881${(i * 64).toString(16).padStart(8, "0")}/${1e12 + i}`));
  const filter = buildBloom(keys);

  it("holds every key it was built from", () => {
    for (const k of keys) expect(bloomMayHave(filter, k)).toBe(true);
  });

  it("admits under 1.5 % of absent keys (documented ~0.8 %) at 10 bits per key", () => {
    let admitted = 0;
    const tries = 50_000;
    for (let i = 0; i < tries; i++) if (bloomMayHave(filter, `sock:node-9/${i.toString(16)}/${i}`)) admitted++;
    expect(admitted / tries).toBeLessThan(0.015);
    expect(filter.length - 1).toBe(Math.ceil((keys.size * DEFAULT_BLOOM_BITS_PER_KEY) / 8));
  });

  it("says no to everything when empty, and maybe to everything when damaged", () => {
    expect(bloomMayHave(buildBloom(new Set()), "pod:x")).toBe(false);
    expect(bloomMayHave(new Uint8Array(0), "pod:x")).toBe(true);
  });
});
