import { describe, expect, it } from "vitest";
import { waitFor } from "../helpers/mod.js";
import {
  FAST_RETRY,
  makeEvents,
  natsFixtureForFile,
  range,
  readAll,
  recordDrops,
  testPublisher,
  TINY_QUEUE,
} from "./helpers.js";

const fx = natsFixtureForFile();

describe("EventPublisher across a nats-server restart", () => {
  it("queues events while NATS is away and publishes all of them, once, after it returns", async () => {
    const node = "outage-a";
    const pub = testPublisher(fx, node, { maxBatchEvents: 200, ...FAST_RETRY });
    pub.push(makeEvents(3000, 1, node));
    expect(await pub.flush(10_000)).toBe(true);

    const down = fx.server.stop();
    pub.push(makeEvents(2000, 3001, node)); // racing the shutdown
    await down;
    pub.push(makeEvents(5000, 5001, node)); // while nothing listens
    await waitFor(() => pub.stats().publishErrors > 0, { what: "a publish to fail while NATS is down" });
    expect(pub.stats().queued).toBeGreaterThan(0);
    await fx.server.restart();

    expect(await pub.flush(30_000)).toBe(true);
    const stats = await pub.close();
    expect(stats.dropped).toBe(0);
    expect(stats.published).toBe(10_000);
    expect(stats.publishErrors).toBeGreaterThan(0);

    const got = await readAll(fx.nc, { node });
    expect(got.seqs.length).toBe(10_000);
    expect(new Set(got.seqs).size).toBe(10_000);
    expect(got.seqs).toEqual(range(1, 10_000));
  });

  it("with a tiny queue, drops the oldest, reports them via onDrop, and loses nothing else", async () => {
    const node = "outage-b";
    const { drops, onDrop } = recordDrops();
    const pub = testPublisher(fx, node, { agentStartUs: 2, ...TINY_QUEUE, onDrop });
    await fx.server.stop();
    const all = makeEvents(4000, 1, node);
    for (let i = 0; i < all.length; i += 250) {
      pub.push(all.slice(i, i + 250));
      // Deliberate pacing: events arrive over time, as from bpftrace, so the
      // queue overflows while the publisher keeps retrying.
      await new Promise((r) => setTimeout(r, 5));
    }
    await fx.server.restart();
    expect(await pub.flush(30_000)).toBe(true);
    const stats = await pub.close();

    const got = await readAll(fx.nc, { node });
    expect(new Set(got.seqs).size).toBe(got.seqs.length);
    expect(got.seqs).toEqual([...got.seqs].sort((a, b) => a - b));
    expect(stats.dropped).toBeGreaterThan(0);
    expect(stats.dropped).toBe(4000 - got.seqs.length);
    expect(stats.published).toBe(got.seqs.length);
    expect(drops.reduce((n, d) => n + d.count, 0)).toBe(stats.dropped);
    // The newest events survive; what is gone is reported with its kernel time span.
    expect(got.seqs).toContain(4000);
    const missing = new Set(range(1, 4000));
    for (const s of got.seqs) missing.delete(s);
    const tsOf = (seq: number) => all[seq - 1]!.tsNs;
    const firstMissing = Math.min(...missing);
    expect(drops[0]!.firstTsNs).toBe(tsOf(firstMissing));
    expect(drops.map((d) => d.lastTsNs).reduce((a, b) => (a > b ? a : b))).toBe(tsOf(Math.max(...missing)));
  });

  it("close() gives up at its deadline when NATS never returns, counting the rest as dropped", async () => {
    const node = "outage-c";
    const pub = testPublisher(fx, node, { agentStartUs: 3, maxBatchEvents: 100, ...FAST_RETRY });
    await fx.server.stop();
    try {
      pub.push(makeEvents(1000, 1, node));
      const t0 = Date.now();
      const stats = await pub.close(1000);
      expect(Date.now() - t0).toBeLessThan(3000);
      expect(stats.published + stats.dropped).toBe(1000);
      expect(stats.dropped).toBeGreaterThan(0);
      expect(stats.queued).toBe(0);
    } finally {
      await fx.server.restart();
    }
  });
});
