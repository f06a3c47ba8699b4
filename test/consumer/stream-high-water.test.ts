// The consumer's record of fed seqs per source: a redelivered batch below
// seqs already fed is fresh when its own seqs were never fed (a dead
// consumer's unacked batches arrive after what followed them), and a
// duplicate when they were.
import { describe, expect, it } from "vitest";
import { StreamHighWater } from "../../src/consumer/stream-high-water.js";
import type { ConnEvent } from "../../src/model/mod.js";

const source = { node: "n1", bootId: "b", agentStartUs: 1 };
const evs = (...seqs: number[]): ConnEvent[] => seqs.map((seq) => ({ seq }) as ConnEvent);
const seqsOf = (e: ConnEvent[]): number[] => e.map((x) => x.seq);

describe("StreamHighWater", () => {
  it("passes a batch below the highest fed seq whose seqs were never fed, once", () => {
    const hw = new StreamHighWater();
    const feed = (e: ConnEvent[]) => {
      const f = hw.fresh(source, e);
      hw.advance(source, f);
      return seqsOf(f);
    };
    expect(feed(evs(1, 2, 3))).toEqual([1, 2, 3]);
    expect(feed(evs(2 ** 32 + 7))).toEqual([2 ** 32 + 7]); // the crash GAP, far past
    expect(feed(evs(4, 5, 6))).toEqual([4, 5, 6]); // redelivered after it
    expect(feed(evs(3, 4, 5, 6, 7))).toEqual([7]); // partly fed already
    expect(feed(evs(1, 2, 3, 4, 5, 6, 7))).toEqual([]);
    expect(feed(evs(2 ** 32 + 7))).toEqual([]);
  });

  it("fedThrough: a heartbeat's seq counts as fed only with no hole below it", () => {
    const hw = new StreamHighWater();
    expect(hw.fedThrough(source, 1)).toBe(false); // nothing of the source yet
    hw.advance(source, evs(1, 2, 3));
    expect(hw.fedThrough(source, 3)).toBe(true);
    expect(hw.fedThrough(source, 4)).toBe(false); // still on its way
    hw.advance(source, evs(7, 8)); // 4-6 held by a dead consumer, redelivered later
    expect(hw.fedThrough(source, 8)).toBe(false);
    hw.advance(source, evs(4, 5, 6));
    expect(hw.fedThrough(source, 8)).toBe(true);
    expect(hw.fedThrough({ ...source, agentStartUs: 2 }, 1)).toBe(false); // another run of the agent
  });

  it("keeps sources apart", () => {
    const hw = new StreamHighWater();
    hw.advance(source, evs(1, 2));
    expect(seqsOf(hw.fresh({ ...source, agentStartUs: 2 }, evs(1, 2)))).toEqual([1, 2]);
  });

  it("takes the oldest holes as filled past its limit", () => {
    const hw = new StreamHighWater(2);
    for (const s of [1, 3, 5, 7]) hw.advance(source, evs(s)); // holes 2, 4, 6
    expect(seqsOf(hw.fresh(source, evs(2, 4, 6)))).toEqual([4, 6]);
    hw.advance(source, evs(9)); // hole 8 pushes 4 out
    expect(seqsOf(hw.fresh(source, evs(2, 4, 6, 8)))).toEqual([6, 8]);
  });
});
