import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EventPublisher } from "../../src/transport/mod.js";
import { waitFor } from "../helpers/mod.js";
import { makeEvents, range, readAll, startNatsFixture, type NatsFixture } from "./helpers.js";

let fx: NatsFixture;
beforeAll(async () => {
  fx = await startNatsFixture();
});
afterAll(async () => {
  await fx?.close();
});

const fast = { publishTimeoutMs: 500, retryInitialMs: 50, retryMaxMs: 300 };

describe("EventPublisher across a nats-server restart", () => {
  it("queues events while NATS is away and publishes all of them, once, after it returns", async () => {
    const node = "outage-a";
    const pub = new EventPublisher({ js: fx.js, node, bootId: "b", agentStartUs: 1, maxBatchEvents: 200, ...fast });
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
    const drops: { count: number; firstTsNs: bigint; lastTsNs: bigint }[] = [];
    const pub = new EventPublisher({
      js: fx.js,
      node,
      bootId: "b",
      agentStartUs: 2,
      maxBatchEvents: 100,
      maxInFlight: 2,
      maxQueuedEvents: 500,
      ...fast,
      onDrop: (count, firstTsNs, lastTsNs) => drops.push({ count, firstTsNs, lastTsNs }),
    });
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
    const pub = new EventPublisher({ js: fx.js, node, bootId: "b", agentStartUs: 3, maxBatchEvents: 100, ...fast });
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
