// Batches cut and encoded where the events are (the agent's worker) and the
// publisher's queue of encoded batches: no NATS here.
import { describe, expect, test } from "vitest";
import { BatchQueue } from "../../src/transport/batch-queue.js";
import { BatchCutter, batchMsgId, decodeBatch, encodeBatch, type EncodedBatch } from "../../src/transport/mod.js";
import { waitFor } from "../helpers/mod.js";
import { makeEvents } from "./helpers.js";

const origin = { node: "node-c", bootId: "b", agentStartUs: 9 };

describe("BatchCutter", () => {
  test("full batches leave at once, in seq order, each decoding to its events", () => {
    const out: EncodedBatch[] = [];
    const cutter = new BatchCutter({ origin, maxBatchEvents: 100, maxBatchDelayMs: 60_000, onBatch: (b) => out.push(b) });
    const events = makeEvents(1050);
    for (let i = 0; i < events.length; i += 37) cutter.push(events.slice(i, i + 37));
    expect(out.map((b) => b.count)).toEqual(Array(10).fill(100));
    expect(cutter.size).toBe(50);
    cutter.flush();
    cutter.stop();
    expect(out.map((b) => b.firstSeq)).toEqual([1, 101, 201, 301, 401, 501, 601, 701, 801, 901, 1001]);
    for (const b of out) {
      const decoded = decodeBatch(b.bytes);
      expect(decoded.events.map((e) => e.seq)).toEqual(events.slice(b.firstSeq - 1, b.firstSeq - 1 + b.count).map((e) => e.seq));
      expect(b.msgID).toBe(batchMsgId(origin, b.firstSeq));
      expect([b.firstTsNs, b.lastTsNs]).toEqual([events[b.firstSeq - 1]!.tsNs, events[b.firstSeq + b.count - 2]!.tsNs]);
    }
  });

  test("a partial batch leaves after maxBatchDelayMs", async () => {
    const out: EncodedBatch[] = [];
    const cutter = new BatchCutter({ origin, maxBatchEvents: 1000, maxBatchDelayMs: 20, onBatch: (b) => out.push(b) });
    cutter.push(makeEvents(3));
    expect(out).toEqual([]);
    await waitFor(() => out.length === 1 || undefined, { what: "the delayed batch" });
    expect(out[0]!.count).toBe(3);
    expect(cutter.size).toBe(0);
  });
});

describe("encodeBatch with its reused writer", () => {
  test("a batch's bytes stay intact after the next batches are encoded, and equal the same batch encoded alone", () => {
    const a = makeEvents(300, 1);
    const first = encodeBatch(origin, a);
    const copy = Uint8Array.from(first);
    encodeBatch(origin, makeEvents(700, 301));
    encodeBatch(origin, makeEvents(1, 1001));
    expect(Uint8Array.from(first)).toEqual(copy);
    expect(decodeBatch(first).events.map((e) => e.seq)).toEqual(a.map((e) => e.seq));
    expect(Uint8Array.from(encodeBatch(origin, a))).toEqual(copy);
  });
});

describe("BatchQueue", () => {
  const batch = (firstSeq: number, count: number): EncodedBatch => ({
    firstSeq,
    count,
    firstTsNs: BigInt(firstSeq) * 10n,
    lastTsNs: BigInt(firstSeq + count - 1) * 10n,
    msgID: String(firstSeq),
    bytes: new Uint8Array(1),
  });

  test("sheds the oldest whole batches to make room, reporting their events and kernel time span", () => {
    const q = new BatchQueue(250);
    const d = { count: 0, firstTsNs: 0n, lastTsNs: 0n };
    q.push(batch(1, 100), d);
    q.push(batch(101, 100), d);
    expect(d.count).toBe(0);
    q.push(batch(201, 100), d); // 300 > 250: the oldest goes
    expect(d).toEqual({ count: 100, firstTsNs: 10n, lastTsNs: 1000n });
    expect([q.size, q.length]).toEqual([200, 2]);
    d.count = 0;
    q.push(batch(301, 240), d); // needs both older ones gone
    expect(d).toEqual({ count: 200, firstTsNs: 1010n, lastTsNs: 3000n });
    expect(q.shift()?.firstSeq).toBe(301);
    expect(q.size).toBe(0);
  });

  test("a batch larger than the whole queue is still held, alone", () => {
    const q = new BatchQueue(10);
    const d = { count: 0, firstTsNs: 0n, lastTsNs: 0n };
    q.push(batch(1, 5), d);
    q.push(batch(6, 50), d);
    expect(d.count).toBe(5);
    expect([q.size, q.length]).toEqual([50, 1]);
  });

  test("stays FIFO across many pushes and shifts", () => {
    const q = new BatchQueue(1_000_000);
    const d = { count: 0, firstTsNs: 0n, lastTsNs: 0n };
    const seen: number[] = [];
    for (let i = 1; i <= 5000; i++) {
      q.push(batch(i, 1), d);
      if (i % 3 === 0) seen.push(q.shift()!.firstSeq, q.shift()!.firstSeq);
    }
    q.clear(d);
    expect(seen).toEqual(Array.from({ length: seen.length }, (_, i) => i + 1));
    expect(d.count).toBe(5000 - seen.length);
    expect(q.size).toBe(0);
  });
});

describe("BatchCutter encodes as events arrive", () => {
  test("its batches are encodeBatch's bytes, and it keeps no event: the caller may reuse them at once", () => {
    const out: EncodedBatch[] = [];
    const cutter = new BatchCutter({ origin, maxBatchEvents: 100, maxBatchDelayMs: 60_000, onBatch: (b) => out.push(b) });
    const events = makeEvents(250);
    const reused = makeEvents(1)[0]!;
    for (const e of events) {
      // One object pushed again and again, changed between pushes, as a pooling agent does.
      Object.assign(reused, e);
      cutter.push([reused]);
    }
    cutter.flush();
    cutter.stop();
    expect(out.map((b) => b.count)).toEqual([100, 100, 50]);
    for (const b of out) {
      const sent = events.slice(b.firstSeq - 1, b.firstSeq - 1 + b.count);
      expect(Buffer.from(b.bytes).equals(Buffer.from(encodeBatch(origin, sent)))).toBe(true);
      expect([b.firstTsNs, b.lastTsNs]).toEqual([sent[0]!.tsNs, sent.at(-1)!.tsNs]);
    }
  });

  test("an event released late, from before the open batch's base second, starts a batch of its own", () => {
    const out: EncodedBatch[] = [];
    const cutter = new BatchCutter({ origin, maxBatchEvents: 100, maxBatchDelayMs: 60_000, onBatch: (b) => out.push(b) });
    const events = makeEvents(4).map((e, i) => ({ ...e, tsNs: 7_000_000_000n + BigInt(i) }));
    events[2]!.tsNs = 6_999_999_999n; // a nanosecond before the batch's second
    events[3]!.tsNs = 7_500_000_000n; // later again: no new batch needed
    cutter.push(events);
    cutter.flush();
    expect(out.map((b) => b.count)).toEqual([2, 2]);
    const got = out.flatMap((b) => decodeBatch(b.bytes).events);
    expect(got.map((e) => e.tsNs)).toEqual(events.map((e) => e.tsNs));
    expect(got.map((e) => e.seq)).toEqual(events.map((e) => e.seq));
  });
});
