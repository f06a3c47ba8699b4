// What a sealed trace costs, on traces the real stitcher built from the bench
// generator (bench/traffic-template.ts): a regression in the encoding or the
// compressor fails here, not only in a benchmark nobody ran.
import { describe, expect, it } from "vitest";
import { buildTemplate } from "../../../bench/traffic-template.js";
import { sealBlock } from "../../../src/store/blocks/mod.js";

describe("sealed block size", () => {
  // Measured 2026-12-02 (4096 traces): mesh 14 B body + 15.5 B filter per trace, churn 6.5 B + 5.4 B.
  // The generator is regular (sequential sockets and ports, fixed timings), so real traffic costs
  // more (src/store/blocks/compress.ts): the bounds catch a regression, they are not the targets.
  it.each([
    ["mesh", 30, 60],
    ["churn", 15, 35],
  ] as const)("a block of 4096 stitched %s traces stays under %i B of body and %i B with its filter per trace", (kind, body, total) => {
    const { traces } = buildTemplate(kind, { connections: 4096 });
    const block = sealBlock(traces);
    expect(block.count).toBe(4096);
    expect(block.body.length / 4096).toBeLessThan(body);
    expect((block.body.length + block.filter.length) / 4096).toBeLessThan(total);
  });
});
