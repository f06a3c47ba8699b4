import { describe, expect, it } from "vitest";
import {
  EVENTS_STREAM,
  EventPublisher,
  batchMsgId,
  encodeBatch,
  eventsSubject,
} from "../../src/transport/mod.js";
import { waitFor } from "../helpers/mod.js";
import { makeEvents, natsFixtureForFile, range, readAll } from "./helpers.js";

const fx = natsFixtureForFile();

const origin = { node: "node-a", bootId: "boot-1", agentStartUs: 1_763_700_000_000_000 };

describe("EventPublisher → subscribeEvents", () => {
  it("delivers 10k events in order, batched, and the stream dedupes a re-published batch", async () => {
    const pub = new EventPublisher({ js: fx.js, ...origin, maxBatchEvents: 1000 });
    const events = makeEvents(10_000);
    // The agent pushes in small bursts, as bpftrace lines arrive.
    for (let i = 0; i < events.length; i += 137) pub.push(events.slice(i, i + 137));
    expect(await pub.flush(20_000)).toBe(true);
    const stats = await pub.close();
    expect(stats).toMatchObject({ published: 10_000, dropped: 0, queued: 0, publishErrors: 0 });
    expect(stats.batches).toBeGreaterThanOrEqual(10);

    const before = await fx.jsm.streams.info(EVENTS_STREAM);
    const got = await readAll(fx.nc);
    expect(got.seqs).toEqual(range(1, 10_000));
    expect(got.batches).toBe(stats.batches);
    expect(got.malformed).toBe(0);

    // A retry of the first batch (same msgID) is acknowledged but stored once.
    const first = events.slice(0, 1000);
    const ack = await fx.js.publish(eventsSubject(origin.node), encodeBatch(origin, first), {
      msgID: batchMsgId(origin, 1),
    });
    expect(ack.duplicate).toBe(true);
    const after = await fx.jsm.streams.info(EVENTS_STREAM);
    expect(after.state.messages).toBe(before.state.messages);
  });

  it("sends a partial batch after maxBatchDelayMs without flush", async () => {
    const pub = new EventPublisher({ js: fx.js, ...origin, bootId: "boot-2", maxBatchDelayMs: 20 });
    pub.push(makeEvents(5, 1));
    await waitFor(() => pub.stats().published >= 5, { what: "the partial batch published", timeoutMs: 5000, intervalMs: 5 });
    expect(pub.stats()).toMatchObject({ published: 5, batches: 1, queued: 0 });
    await pub.close();
  });

  it("filters by node and by start time", async () => {
    const t = new Date();
    const pub = new EventPublisher({ js: fx.js, node: "node-b", bootId: "b", agentStartUs: 1 });
    pub.push(makeEvents(50, 1, "node-b"));
    await pub.close();
    const onlyB = await readAll(fx.nc, { node: "node-b" });
    expect(onlyB.seqs).toEqual(range(1, 50));
    const sinceT = await readAll(fx.nc, { since: t });
    expect(sinceT.seqs).toEqual(range(1, 50));
    const future = await readAll(fx.nc, { since: new Date(Date.now() + 60_000) });
    expect(future.seqs).toEqual([]);
  });

  it("refuses push after close", async () => {
    const pub = new EventPublisher({ js: fx.js, ...origin, bootId: "boot-3" });
    await pub.close();
    expect(() => pub.push(makeEvents(1))).toThrowError(/closed/);
  });
});
