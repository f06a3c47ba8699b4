// The rate a restart GAP's estimate is made of: events per second of kernel
// time over the last seconds, and what a gap of a given span hid at that rate.
import { describe, expect, it } from "vitest";
import { EventRate } from "../../src/agent/event-rate.js";

const S = 1_000_000_000n;

describe("EventRate", () => {
  it("measures events per second of kernel time over its window", () => {
    const r = new EventRate(10);
    // 500 events/s for 4 s, starting at 100 s of uptime.
    for (let i = 0n; i < 2000n; i++) r.note(100n * S + (i * S) / 500n);
    expect(r.perSecond(104n * S)).toBeCloseTo(500, 0);
  });

  it("forgets seconds older than its window: the rate follows a change of load", () => {
    const r = new EventRate(2);
    for (let i = 0n; i < 1000n; i++) r.note(10n * S + (i * S) / 1000n); // 1000/s during second 10
    for (let i = 0n; i < 200n; i++) r.note(20n * S + (i * S) / 100n); // 100/s during 20..22
    expect(r.perSecond(22n * S)).toBeCloseTo(100, 0);
  });

  it("estimates a gap as the rate before it times its span; none without events", () => {
    const r = new EventRate();
    expect(r.estimate(5n * S, 7n * S)).toBeNull();
    for (let i = 0n; i < 300n; i++) r.note(2n * S + (i * S) / 100n); // 100/s for 3 s
    expect(r.estimate(5n * S, 7n * S + S / 2n)).toBe(250);
    expect(r.estimate(5n * S, 5n * S)).toBeNull();
  });
});
