import { describe, expect, test } from "vitest";
import { OwnerTable, ReorderBuffer } from "../../src/agent/mod.js";
import type { ConnEventInit } from "../../src/model/mod.js";

// Past 2^53 ns (104 days of uptime) a double cannot tell 1 ns apart: every
// kernel time below sits there, so these tests also check exactness.
const T = 1n << 53n;

describe("reorder buffer", () => {
  test("releases in timestamp order up to the watermark, 1 ns apart past 2^53", () => {
    const rb = new ReorderBuffer<{ tsNs: bigint }>();
    // two CPUs' runs interleaved
    for (const ts of [10n, 11n, 12n, 5n, 6n, 13n, 7n, 20n, 15n]) rb.push({ tsNs: T + ts });
    const out: bigint[] = [];
    rb.drain(T + 12n, (e) => out.push(e.tsNs - T));
    expect(out).toEqual([5n, 6n, 7n, 10n, 11n, 12n]);
    expect(rb.size).toBe(3);
    expect(rb.reordered).toBeGreaterThan(0);
    rb.push({ tsNs: T + 3n }); // older than what already left: counted late, released next
    rb.drainAll((e) => out.push(e.tsNs - T));
    expect(out).toEqual([5n, 6n, 7n, 10n, 11n, 12n, 3n, 13n, 15n, 20n]);
    expect(rb.late).toBe(1);
  });

  test("keeps order across many random runs", () => {
    const rb = new ReorderBuffer<{ tsNs: bigint }>();
    const input: bigint[] = [];
    for (let i = 0; i < 20000; i++) input.push(T + BigInt(i * 10 + Math.floor(Math.random() * 500)));
    const out: bigint[] = [];
    input.forEach((ts, i) => {
      rb.push({ tsNs: ts });
      if (i % 100 === 0) rb.drain(ts - 1000n, (e) => out.push(e.tsNs));
    });
    rb.drainAll((e) => out.push(e.tsNs));
    expect(out).toHaveLength(input.length);
    expect(out).toEqual([...input].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(rb.late).toBe(0);
  });
});

describe("owner table", () => {
  test("attributes each generation of a reused socket address to its own process", () => {
    const t = new OwnerTable();
    // generation 1 born at 100 (accepted by pid 10 at 150); generation 2 born at 300 (connect by pid 20 at 301)
    t.note("ffff1", T + 301n, { pid: 20, tid: 20, comm: "curl" });
    t.note("ffff1", T + 150n, { pid: 10, tid: 11, comm: "nginx" });
    expect(t.lookup("ffff1", T + 100n)?.pid).toBe(10);
    expect(t.lookup("ffff1", T + 300n)?.pid).toBe(20);
    expect(t.lookup("ffff1", T + 302n)).toBeUndefined();
    expect(t.lookup("other", 0n)).toBeUndefined();
  });

  test("a refused connect returns after its socket closed and still names the caller", () => {
    const t = new OwnerTable();
    t.note("ffff2", T + 500n, { pid: 7, tid: 7, comm: "python3" }); // connect() -111 after SYN_SENT→CLOSE at 480
    expect(t.lookup("ffff2", T + 400n)?.comm).toBe("python3");
  });

  test("prune drops old records but keeps the owner of a live socket", () => {
    const t = new OwnerTable();
    t.note("live", T + 10n, { pid: 1, tid: 1, comm: "a" });
    t.note("dead", T + 10n, { pid: 2, tid: 2, comm: "b" });
    t.prune(T + 11n, (s) => s === "live");
    expect(t.lookup("live", 0n)?.pid).toBe(1);
    expect(t.lookup("dead", 0n)).toBeUndefined();
    expect(t.size).toBe(1);
  });
});

describe("queue drops become one GAP per release", () => {
  test("drops reported before the GAP leaves are folded into it", async () => {
    const { Agent } = await import("../../src/agent/mod.js");
    const { EventKind } = await import("../../src/model/mod.js");
    const out: Array<{ kind?: number | null; lost?: number | null; gapStartNs?: bigint | null }> = [];
    // No reorder window: tick() releases what was seen (the kernel times here are
    // ahead of this process's monotonic clock, so a window would hold them).
    const agent = new Agent({ node: "t", sink: (evs) => out.push(...evs), pods: { resolve: () => "" }, reorderWindowMs: 0 });
    agent.feed(`O ${T + 1000n} ffff1 7 2 4 10.0.0.1 0 10.0.0.2 80 1 0 0 0 0`);
    agent.reportDropped(5, T + 100n, T + 200n);
    agent.reportDropped(7, T + 51n, T + 300n);
    agent.tick();
    agent.reportDropped(2, T + 401n, T + 500n); // after release: a new GAP
    await agent.stop();
    const gaps = out.filter((e) => e.kind === EventKind.EVENT_KIND_GAP);
    expect(gaps.map((g) => [g.lost, g.gapStartNs])).toEqual([
      [12, T + 51n],
      [2, T + 401n],
    ]);
    expect(agent.stats().queueDropped).toBe(14);
  });

  test("a folded drop extends the GAP's end to the latest dropped event, and release order stays by time", async () => {
    const { Agent } = await import("../../src/agent/mod.js");
    const { EventKind } = await import("../../src/model/mod.js");
    const out: ConnEventInit[] = [];
    const agent = new Agent({ node: "t", sink: (evs) => out.push(...evs), pods: { resolve: () => "" } });
    const state = (ts: bigint) => `O ${T + ts} ffff1 7 2 4 10.0.0.1 0 10.0.0.2 80 1 0 0 0 0`;
    agent.feed(state(1000n));
    agent.reportDropped(5, T + 100n, T + 200n); // GAP [100, 1000]: nothing newer had been seen
    agent.feed(state(2000n)); // buffered after the GAP, in the same run
    agent.feed(state(3000n));
    agent.reportDropped(7, T + 50n, T + 2500n); // still unreleased: one GAP [50, 2500]
    await agent.stop(); // releases everything, in kernel-time order

    expect(out.map((e) => e.tsNs! - T)).toEqual([1000n, 2000n, 2500n, 3000n]);
    expect(out.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    const gaps = out.filter((e) => e.kind === EventKind.EVENT_KIND_GAP);
    expect(gaps.map((g) => [g.lost, g.gapStartNs! - T, g.tsNs! - T])).toEqual([[12, 50n, 2500n]]);
    expect(agent.stats().eventsReleased).toBe(4);
    expect(agent.stats().queueDropped).toBe(12);
  });
});
