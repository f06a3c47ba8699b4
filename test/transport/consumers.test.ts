import { describe, expect, it } from "vitest";
import {
  EventPublisher,
  MalformedMessageError,
  createDurableEventConsumer,
  decodeBatch,
  encodeBatch,
  eventsSubject,
  isMalformedMessageError,
  subscribeEvents,
  type DurableEventConsumerOptions,
} from "../../src/transport/mod.js";
import { v1 } from "../../src/model/mod.js";
import { waitFor } from "../helpers/mod.js";
import { makeEvents, natsFixtureForFile, range, readAll } from "./helpers.js";

const fx = natsFixtureForFile();

const origin = { node: "node-m", bootId: "b", agentStartUs: 7 };

describe("decodeBatch", () => {
  it("round-trips a batch: uint64 fields as plain numbers, kernel times as exact bigints", () => {
    const b = decodeBatch(encodeBatch(origin, makeEvents(3, 41)));
    expect(b.node).toBe("node-m");
    expect(b.firstSeq).toBe(41);
    expect(b.agentStartUs).toBe(7);
    expect(b.events.map((e) => e.seq)).toEqual([41, 42, 43]);
    expect(typeof b.events[0]!.timeUs).toBe("number");
    expect(b.events[0]!.tsNs).toBe(1_000_041_000n);
    expect(b.events[0]!.lost).toBe(0);
  });

  it.each([
    ["random text", new TextEncoder().encode("hello, this is not protobuf")],
    ["truncated", encodeBatch(origin, makeEvents(5)).subarray(0, 40)],
    ["empty", new Uint8Array()],
    ["wrong wire type", Uint8Array.of(0x0d, 1, 2, 3, 4)],
    ["no events", v1.EventBatch.encode({ node: "n", firstSeq: 1 }).finish()],
    ["no node", v1.EventBatch.encode({ firstSeq: 1, events: makeEvents(1) }).finish()],
    ["seq going back", v1.EventBatch.encode({ node: "n", firstSeq: 5, events: makeEvents(2, 5).reverse() }).finish()],
    ["first_seq mismatch", v1.EventBatch.encode({ node: "n", firstSeq: 1, events: makeEvents(2, 9) }).finish()],
  ])("rejects %s with a MalformedMessageError", (_name, bytes) => {
    let err: unknown;
    try {
      decodeBatch(bytes);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(MalformedMessageError);
    expect(isMalformedMessageError(err)).toBe(true);
    expect((err as MalformedMessageError).code).toBe("ERR_TRANSPORT_MALFORMED_MESSAGE");
  });
});

describe("subscribeEvents", () => {
  it("counts and skips garbage on an events subject; good batches after it still arrive", async () => {
    const good = new EventPublisher({ js: fx.js, ...origin, node: "x" });
    good.push(makeEvents(10, 1, "x"));
    await good.flush();
    await fx.js.publish(eventsSubject("x"), new TextEncoder().encode("garbage \u0000\u00ff"));
    await fx.js.publish(eventsSubject("x"), Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01));
    good.push(makeEvents(10, 11, "x"));
    await good.close();
    const got = await readAll(fx.nc, { node: "x" });
    expect(got.malformed).toBe(2);
    expect(got.seqs).toEqual(range(1, 20));
  });

  it("follow without since delivers only new batches, until closed", async () => {
    const pub = new EventPublisher({ js: fx.js, ...origin, node: "f", maxBatchDelayMs: 5 });
    pub.push(makeEvents(5, 1, "f"));
    await pub.flush();
    const sub = await subscribeEvents(fx.nc, { node: "f", follow: true });
    const seen: number[] = [];
    const reading = (async () => {
      for await (const { batch } of sub) {
        for (const e of batch.events) seen.push(e.seq);
        if (seen.length >= 5) await sub.close();
      }
    })();
    pub.push(makeEvents(5, 6, "f"));
    await pub.close();
    await reading;
    expect(seen).toEqual(range(6, 5));
  });
});

describe("createDurableEventConsumer", () => {
  it("resumes after close with the unacked rest, never an acked batch again", async () => {
    const node = "durable";
    const pub = new EventPublisher({ js: fx.js, node, bootId: "b", agentStartUs: 9, maxBatchEvents: 100 });
    pub.push(makeEvents(2000, 1, node));
    await pub.close();
    const opts: DurableEventConsumerOptions = { ackWaitMs: 1000, prefetch: 4, filterSubject: eventsSubject(node) };

    const first: number[] = [];
    const c1 = await createDurableEventConsumer(fx.js, fx.jsm, "tracer-test", opts);
    for await (const d of c1) {
      await d.ack();
      first.push(d.batch.firstSeq);
      if (first.length === 10) break;
    }
    expect(c1.stats()).toEqual({ received: 10, malformed: 0 });

    // Garbage published meanwhile must be terminated, not redelivered forever.
    await fx.js.publish(eventsSubject(node), new TextEncoder().encode("not a batch"));

    const second: number[] = [];
    const c2 = await createDurableEventConsumer(fx.js, fx.jsm, "tracer-test", opts);
    const deadline = Date.now() + 15_000;
    for await (const d of c2) {
      await d.ack();
      second.push(d.batch.firstSeq);
      if (second.length === 10 || Date.now() > deadline) break;
    }
    expect(c2.stats().malformed).toBe(1);
    expect(first.filter((s) => second.includes(s))).toEqual([]);
    expect([...first, ...second].sort((a, b) => a - b)).toEqual(range(0, 20).map((i) => i * 100 + 1));

    // Acks and the term of the garbage are processed asynchronously by the server.
    const info = await waitFor(
      async () => {
        const i = await fx.jsm.consumers.info("TCPTRAIL_EVENTS", "tracer-test");
        return i.num_ack_pending === 0 && i;
      },
      { what: "the server to process every ack", timeoutMs: 5000, intervalMs: 100 },
    );
    expect(info.num_pending).toBe(0);
    expect(info.num_ack_pending).toBe(0);
    await fx.jsm.consumers.delete("TCPTRAIL_EVENTS", "tracer-test");
  });
});
