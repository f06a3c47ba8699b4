// The N-node scale bench end to end on a real nats-server, small: every
// simulated node's connections become exactly one stored trace each, the
// nodes' identical ports never meet (their addresses differ), and the rates
// it reports are real numbers.
import { describe, expect, test } from "vitest";
import { benchScale } from "../../bench/scale-bench.js";

describe("scale bench", () => {
  test("three nodes' connections are each stored as one trace, counted and timed", async () => {
    const r = await benchScale({ nodes: 3, connectionsPerNode: 40 });
    expect(r.connections).toBe(120);
    expect(r.events).toBe(120 * 14);
    expect(r.traces).toBe(120);
    expect(r.extraTraces).toBe(0);
    expect(r.ingestEventsPerSec).toBeGreaterThan(0);
    expect(r.consumeEventsPerSec).toBeGreaterThan(0);
    expect(Number.isFinite(r.streamBytesPerEvent)).toBe(true);
  }, 120_000);
});
