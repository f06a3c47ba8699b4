// What close() reports when its deadline passes with batches still in the
// publish window: every pushed event is either published (its ack arrived,
// whether or not the pump had looked at it yet), dropped (never acknowledged)
// or still queued, exactly once. The server is paused with SIGSTOP to hold
// acks back, and always resumed in `finally`.
import { describe, expect, it } from "vitest";
import type { PublisherStats } from "../../src/transport/mod.js";
import { waitFor } from "../helpers/mod.js";
import { makeEvents, natsFixtureForFile, readAll, recordDrops, testPublisher } from "./helpers.js";

const fx = natsFixtureForFile();

const pause = () => process.kill(fx.server.pid, "SIGSTOP");
const resume = () => process.kill(fx.server.pid, "SIGCONT");
const accounted = (s: PublisherStats) => s.published + s.dropped + s.queued;

describe("EventPublisher.close() at its deadline", () => {
  it("does not count a batch published during the retry of an older one as dropped too", async () => {
    const node = "close-acct-a";
    const { drops, onDrop } = recordDrops();
    // Long retry sleeps leave time to call close() between two retries.
    const pub = testPublisher(fx, node, {
      maxBatchEvents: 100,
      maxInFlight: 4,
      publishTimeoutMs: 300,
      retryInitialMs: 1500,
      retryMaxMs: 1500,
      onDrop,
    });
    pause();
    try {
      const events = makeEvents(400, 1, node);
      pub.push(events); // four batches in flight, none can be acked
      await waitFor(() => pub.stats().publishErrors >= 4, { what: "all four publishes to time out", timeoutMs: 10_000 });
      resume();
      // The first batch is re-sent after one retry sleep and acked; the others wait for theirs.
      await waitFor(() => pub.stats().published > 0, { what: "the retried first batch to be acked", timeoutMs: 10_000 });
      expect(pub.stats().published).toBe(100);
      const stats = await pub.close(100);
      expect(accounted(stats)).toBe(400);
      expect(stats).toMatchObject({ published: 100, dropped: 300, queued: 0 });
      // One hole, exactly the three batches never acknowledged.
      expect(drops).toEqual([{ count: 300, firstTsNs: events[100]!.tsNs, lastTsNs: events[399]!.tsNs }]);
    } finally {
      resume();
    }
  });

  it("counts a batch whose ack arrived, but that the pump had not settled yet, as published", async () => {
    const node = "close-acct-b";
    const pub = testPublisher(fx, node, {
      agentStartUs: 2,
      maxBatchEvents: 100,
      maxInFlight: 4,
      publishTimeoutMs: 800,
      retryInitialMs: 5000,
      retryMaxMs: 5000,
    });
    pause();
    try {
      pub.push(makeEvents(100, 1, node)); // batch 1 goes out now...
      await new Promise((r) => setTimeout(r, 400)); // deliberate pacing: batch 2 must leave later
      pub.push(makeEvents(100, 101, node)); // ...batch 2 400 ms later
      // Batch 1 times out while batch 2 still has 400 ms left: resume now, and
      // batch 2's ack arrives while the pump waits to retry batch 1.
      await waitFor(() => pub.stats().publishErrors >= 1, { what: "batch 1 to time out", timeoutMs: 10_000 });
      resume();
      await waitFor(async () => (await readAll(fx.nc, { node })).seqs.includes(200), { what: "batch 2 to be stored", timeoutMs: 10_000 });
      expect(pub.stats().publishErrors).toBe(1); // batch 2 was acked, not timed out
      const stats = await pub.close(100);
      expect(accounted(stats)).toBe(200);
      expect(stats).toMatchObject({ published: 100, dropped: 100, queued: 0 });
    } finally {
      resume();
    }
  });

  it("accounts for every event exactly once when acks land around the deadline", async () => {
    // Resume the server just before, at, and just after the close deadline:
    // whichever acks make it count as published, the rest as dropped.
    for (const [i, resumeAfterMs] of [150, 250, 300, 350].entries()) {
      const node = `close-acct-c${i}`;
      const pub = testPublisher(fx, node, {
        agentStartUs: 3 + i,
        maxBatchEvents: 100,
        maxInFlight: 4,
        publishTimeoutMs: 200,
        retryInitialMs: 20,
        retryMaxMs: 40,
      });
      pause();
      let resumed: NodeJS.Timeout | undefined;
      try {
        pub.push(makeEvents(1000, 1, node));
        resumed = setTimeout(resume, resumeAfterMs);
        const stats = await pub.close(300);
        expect(accounted(stats), `resumed after ${resumeAfterMs} ms: ${JSON.stringify(stats)}`).toBe(1000);
        expect(stats.queued).toBe(0);
        // Published means stored: the stream holds at least those events, once each.
        const got = await readAll(fx.nc, { node });
        expect(new Set(got.seqs).size).toBe(got.seqs.length);
        expect(got.seqs.length).toBeGreaterThanOrEqual(stats.published);
      } finally {
        clearTimeout(resumed);
        resume();
      }
    }
  });
});
