// The pipeline's clock while a backlog is fed in one turn: a worker drains
// its whole message queue before its timers run, so releasing must not wait
// for the timer, or every event of the backlog sits in the reorder buffer.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { EventPipeline } from "../../src/agent/mod.js";
import type { ConnEventInit } from "../../src/model/mod.js";

const RECORDED = readFileSync(new URL("../probes/fixtures/loopback-basics.txt", import.meta.url));

describe("EventPipeline fed a backlog in one turn", () => {
  test("releases on time between chunks, before its timer ever runs", async () => {
    const released: ConnEventInit[][] = [];
    const p = new EventPipeline({ settings: { node: "n", tickMs: 1, reorderWindowMs: 0 }, sink: (evs) => released.push(evs), pods: { resolve: () => "" } });
    p.startClock();
    const half = RECORDED.indexOf("\n", RECORDED.length >> 1) + 1;
    p.feedChunk(RECORDED.subarray(0, half));
    const until = performance.now() + 3;
    while (performance.now() < until); // deliberate busy wait: the same turn, past one tick period
    p.feedChunk(RECORDED.subarray(half));
    const duringTheTurn = released.length;
    await p.stop();
    expect(duringTheTurn).toBeGreaterThan(0);
    expect(released.flat().map((e) => e.seq)).toEqual(released.flat().map((_, i) => i + 1));
  });

  test("without the clock started, nothing leaves before tick() or stop()", async () => {
    const released: ConnEventInit[] = [];
    const p = new EventPipeline({ settings: { node: "n", tickMs: 1, reorderWindowMs: 0 }, sink: (evs) => released.push(...evs), pods: { resolve: () => "" } });
    p.feedChunk(RECORDED.subarray(0, 2000));
    const until = performance.now() + 3;
    while (performance.now() < until);
    p.feedChunk(RECORDED.subarray(2000));
    expect(released).toEqual([]);
    await p.stop();
    expect(released.length).toBeGreaterThan(40);
  });
});

describe("EventPipeline behind its input", () => {
  // A reader behind by more than the reorder window: chunks queued in one turn
  // hold events older than "now - window". Releasing them by the clock while the
  // backlog is worked through would emit a later chunk's events late and out of
  // order; only the data seen so far may bound the release then.
  test("keeps a backlog in kernel order when a later chunk holds slightly older events", async () => {
    const released: ConnEventInit[] = [];
    const p = new EventPipeline({ settings: { node: "n", tickMs: 1, reorderWindowMs: 50 }, sink: (evs) => released.push(...evs), pods: { resolve: () => "" } });
    p.startClock();
    const ms = (n: number) => String(1_000_000_000n + BigInt(n) * 1_000_000n);
    // The program started long ago (kernel clock far behind now): the clock says everything is old.
    p.feedChunk(Buffer.from(`B ${ms(0)}\nK ${ms(100)} ffff1 1\nK ${ms(200)} ffff2 1\n`));
    const until = performance.now() + 3;
    while (performance.now() < until); // deliberate busy wait: the same turn, past one tick period
    p.feedChunk(Buffer.from(`K ${ms(180)} ffff3 1\nK ${ms(300)} ffff4 1\n`));
    await p.stop();
    expect(released.map((e) => e.sock)).toEqual(["ffff1", "ffff3", "ffff2", "ffff4"]);
    expect(p.stats().lateEvents).toBe(0);
  });
});
