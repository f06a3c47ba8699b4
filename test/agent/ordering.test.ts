import { describe, expect, test } from "vitest";
import { OwnerTable, ReorderBuffer } from "../../src/agent/mod.js";

describe("reorder buffer", () => {
  test("releases in timestamp order up to the watermark", () => {
    const rb = new ReorderBuffer<{ tsNs: number }>();
    // two CPUs' runs interleaved
    for (const ts of [10, 11, 12, 5, 6, 13, 7, 20, 15]) rb.push({ tsNs: ts });
    const out: number[] = [];
    rb.drain(12, (e) => out.push(e.tsNs));
    expect(out).toEqual([5, 6, 7, 10, 11, 12]);
    expect(rb.size).toBe(3);
    expect(rb.reordered).toBeGreaterThan(0);
    rb.push({ tsNs: 3 }); // older than what already left: counted late, released next
    rb.drainAll((e) => out.push(e.tsNs));
    expect(out).toEqual([5, 6, 7, 10, 11, 12, 3, 13, 15, 20]);
    expect(rb.late).toBe(1);
  });

  test("keeps order across many random runs", () => {
    const rb = new ReorderBuffer<{ tsNs: number }>();
    const input: number[] = [];
    for (let i = 0; i < 20000; i++) input.push(i * 10 + Math.floor(Math.random() * 500));
    const out: number[] = [];
    input.forEach((ts, i) => {
      rb.push({ tsNs: ts });
      if (i % 100 === 0) rb.drain(ts - 1000, (e) => out.push(e.tsNs));
    });
    rb.drainAll((e) => out.push(e.tsNs));
    expect(out).toHaveLength(input.length);
    expect(out).toEqual([...input].sort((a, b) => a - b));
    expect(rb.late).toBe(0);
  });
});

describe("owner table", () => {
  test("attributes each generation of a reused socket address to its own process", () => {
    const t = new OwnerTable();
    // generation 1 born at 100 (accepted by pid 10 at 150); generation 2 born at 300 (connect by pid 20 at 310)
    t.note("ffff1", 310, { pid: 20, tid: 20, comm: "curl" });
    t.note("ffff1", 150, { pid: 10, tid: 11, comm: "nginx" });
    expect(t.lookup("ffff1", 100)?.pid).toBe(10);
    expect(t.lookup("ffff1", 300)?.pid).toBe(20);
    expect(t.lookup("ffff1", 400)).toBeUndefined();
    expect(t.lookup("other", 0)).toBeUndefined();
  });

  test("a refused connect returns after its socket closed and still names the caller", () => {
    const t = new OwnerTable();
    t.note("ffff2", 500, { pid: 7, tid: 7, comm: "python3" }); // connect() -111 after SYN_SENT→CLOSE at 480
    expect(t.lookup("ffff2", 400)?.comm).toBe("python3");
  });

  test("prune drops old records but keeps the owner of a live socket", () => {
    const t = new OwnerTable();
    t.note("live", 10, { pid: 1, tid: 1, comm: "a" });
    t.note("dead", 10, { pid: 2, tid: 2, comm: "b" });
    t.prune(100, (s) => s === "live");
    expect(t.lookup("live", 0)?.pid).toBe(1);
    expect(t.lookup("dead", 0)).toBeUndefined();
    expect(t.size).toBe(1);
  });
});

describe("queue drops become one GAP per release", () => {
  test("drops reported before the GAP leaves are folded into it", async () => {
    const { Agent } = await import("../../src/agent/mod.js");
    const { EventKind } = await import("../../src/model/mod.js");
    const out: Array<{ kind?: number | null; lost?: number | null; gapStartNs?: number | null }> = [];
    const agent = new Agent({ node: "t", sink: (evs) => out.push(...evs), pods: { resolve: () => "" } });
    agent.feed("O 1000 ffff1 7 2 4 10.0.0.1 0 10.0.0.2 80 1 0");
    agent.reportDropped(5, 100, 200);
    agent.reportDropped(7, 50, 300);
    agent.tick();
    agent.reportDropped(2, 400, 500); // after release: a new GAP
    await agent.stop();
    const gaps = out.filter((e) => e.kind === EventKind.EVENT_KIND_GAP);
    expect(gaps.map((g) => [g.lost, g.gapStartNs])).toEqual([
      [12, 50],
      [2, 400],
    ]);
    expect(agent.stats().queueDropped).toBe(14);
  });
});
