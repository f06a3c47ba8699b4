// The agent's event objects reused once the sink is done with them: a busy
// node's events then cost no garbage, and what leaves is unchanged.
import { describe, expect, test } from "vitest";
import { synthesizeChurnRecording } from "../../bench/synthetic-churn.js";
import { EventPipeline } from "../../src/agent/mod.js";
import { type ConnEventInit } from "../../src/model/mod.js";
import { LineParser, type ParsedEvent } from "../../src/probes/mod.js";
import { BatchCutter, decodeBatch, type EncodedBatch } from "../../src/transport/mod.js";

const origin = { node: "n", bootId: "b", agentStartUs: 1 };

function run(reuseEvents: boolean, lines: string[]): { batches: EncodedBatch[]; objects: Set<ConnEventInit>; released: number } {
  const batches: EncodedBatch[] = [];
  const cutter = new BatchCutter({ origin, maxBatchEvents: 500, maxBatchDelayMs: 60_000, onBatch: (b) => batches.push(b) });
  const objects = new Set<ConnEventInit>();
  let released = 0;
  const p = new EventPipeline({
    settings: { node: "n", reorderWindowMs: 5 },
    pods: { resolve: () => "pod" },
    reuseEvents,
    sink: (evs) => {
      released += evs.length;
      for (const e of evs) objects.add(e);
      cutter.push(evs);
    },
  });
  for (let i = 0; i < lines.length; i++) {
    p.feedLine(lines[i]!);
    if (i % 500 === 0) p.tick();
  }
  p.stopSync();
  cutter.flush();
  cutter.stop();
  return { batches, objects, released };
}

describe("event reuse", () => {
  // Kernel times ahead of the clock: ticks release by the data's own times, a window at a time.
  const lines = synthesizeChurnRecording({ pairs: 3000, startNs: process.hrtime.bigint() + 3_600_000_000_000n });

  test("the batches are byte for byte those of fresh objects, from a few thousand objects instead of one per event", () => {
    const fresh = run(false, lines);
    const reused = run(true, lines);
    expect(reused.released).toBe(fresh.released);
    expect(fresh.objects.size).toBe(fresh.released);
    expect(reused.objects.size).toBeLessThan(fresh.released / 4);
    expect(reused.batches.length).toBe(fresh.batches.length);
    reused.batches.forEach((b, i) => expect(Buffer.from(b.bytes).equals(Buffer.from(fresh.batches[i]!.bytes))).toBe(true));
    expect(decodeBatch(reused.batches[0]!.bytes).events[0]!.seq).toBe(1);
  });

  test("a thread's process is one object for all its syscall lines, until its name or pid changes", () => {
    const got: ParsedEvent[] = [];
    const parser = new LineParser({ onEvent: (e) => got.push(e) });
    parser.parse("X 100 ffff1 10 11 3 app one");
    parser.parse("X 200 ffff2 10 11 4 app one");
    parser.parse("X 300 ffff3 10 11 5 app two");
    parser.parse("X 400 ffff4 12 11 5 app two");
    const [a, b, c, d] = got.map((e) => e.process);
    expect(a).toBe(b);
    expect(c).not.toBe(b);
    expect(c).toEqual({ pid: 10, tid: 11, comm: "app two" });
    expect(d).toEqual({ pid: 12, tid: 11, comm: "app two" });
  });

  test("a recycled event comes back blank but for what its next line sets", () => {
    const got: ParsedEvent[] = [];
    const parser = new LineParser({ onEvent: (e) => got.push(e) });
    parser.parse("X 100 ffff1 10 11 3 app");
    const first = got[0]!;
    first.pod = "stale";
    first.seq = 99;
    parser.recycle(first);
    parser.parse("K 200 ffff2 1");
    expect(got[1]).toBe(first);
    expect(got[1]).toMatchObject({ kind: 4, tsNs: 200n, sock: "ffff2", oldState: 1, seq: undefined, pod: undefined, process: undefined, fd: undefined });
  });
});
