// Batches cut and encoded elsewhere (the agent's worker thread) and handed to
// the publisher whole: published in order, acked, and when the queue
// overflows, shed whole with every event counted and reported.
import { describe, expect, it } from "vitest";
import { BatchCutter, EventPublisher, type EncodedBatch } from "../../src/transport/mod.js";
import { makeEvents, natsFixtureForFile, range, readAll, recordDrops, testPublisher, TINY_QUEUE } from "./helpers.js";

const fx = natsFixtureForFile();

/** Cut like the worker does: the publisher's own batching settings, batches kept for pushBatch. */
function cut(pub: EventPublisher, n: number, from = 1, node = "x"): EncodedBatch[] {
  const out: EncodedBatch[] = [];
  const cutter = new BatchCutter({ ...pub.batching, onBatch: (b) => out.push(b) });
  const events = makeEvents(n, from, node);
  for (let i = 0; i < events.length; i += 333) cutter.push(events.slice(i, i + 333));
  cutter.flush();
  cutter.stop();
  return out;
}

describe("EventPublisher.pushBatch", () => {
  it("publishes batches encoded elsewhere, in order, once each", async () => {
    const node = "batches-a";
    const pub = testPublisher(fx, node, { maxBatchEvents: 250 });
    const batches = cut(pub, 5000, 1, node);
    expect(batches).toHaveLength(20);
    for (const b of batches) pub.pushBatch(b);
    expect(await pub.flush(20_000)).toBe(true);
    const stats = await pub.close();
    expect(stats).toMatchObject({ published: 5000, batches: 20, dropped: 0, queued: 0 });
    const got = await readAll(fx.nc, { node });
    expect(got.seqs).toEqual(range(1, 5000));
    expect(got.batches).toBe(20);
  });

  it("while NATS is away, sheds the oldest whole batches and reports every event it shed", async () => {
    const node = "batches-b";
    const { drops, onDrop } = recordDrops();
    const pub = testPublisher(fx, node, { agentStartUs: 2, ...TINY_QUEUE, onDrop });
    const batches = cut(pub, 3000, 1, node);
    await fx.server.stop();
    for (const b of batches) pub.pushBatch(b);
    expect(pub.stats().queued).toBeLessThanOrEqual(500 + 2 * 100);
    await fx.server.restart();
    expect(await pub.flush(30_000)).toBe(true);
    const stats = await pub.close();
    const got = await readAll(fx.nc, { node });
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.dropped % 100).toBe(0); // whole batches
    expect(stats.published + stats.dropped).toBe(3000);
    expect(got.seqs.length).toBe(stats.published);
    expect(drops.reduce((n, d) => n + d.count, 0)).toBe(stats.dropped);
    expect(got.seqs).toContain(3000); // the newest survive
    expect(got.seqs).toEqual([...got.seqs].sort((a, b) => a - b));
  });
});
