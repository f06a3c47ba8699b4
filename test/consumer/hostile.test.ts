// Hostile and malformed messages on the events subject are counted and
// skipped; the consumer keeps going and the good batches after them still
// become traces.
import { randomBytes } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { EventKind, Outcome, TcpState, v1 } from "../../src/model/mod.js";
import { startConsumerService, type ConsumerService } from "../../src/consumer/mod.js";
import { insaneReason } from "../../src/consumer/mod.js";
import { decodeBatch } from "../../src/transport/mod.js";
import { waitFor } from "../helpers/mod.js";
import { publishAll, startHarness, type Harness } from "./helpers/harness.js";
import { sequentialScenarios } from "./helpers/workload.js";

let h: Harness;
let consumer: ConsumerService | undefined;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await consumer?.stop().catch(() => undefined);
  consumer = undefined;
  await h.close();
});

const EVIL = "tcptrail.v1.events.evil";

/** A well-formed EventBatch whose values no kernel or agent produces (kernel times: offsets from base_s). */
function absurdBatch(): Uint8Array {
  return v1.EventBatch.encode({
    node: "evil",
    bootId: "x",
    agentStartUs: 1,
    firstSeq: 1,
    baseS: 0,
    events: [
      { seq: 1, kind: 999 as EventKind, tsOffsetNs: 5, timeUs: 1_750_000_000_000_000, sock: "ffff" },
      { seq: 2, kind: 1, tsOffsetNs: 0, timeUs: 1_750_000_000_000_000, sock: "ffff" },
      { seq: 3, kind: 1, tsOffsetNs: 7, timeUs: 1_750_000_000_000_000, sock: "ffff", local: { ip: "10.0.0.1", port: 1_000_000 } },
      { seq: 4, kind: 1, tsOffsetNs: 8, timeUs: 1_750_000_000_000_000, sock: "not hex; DROP TABLE events" },
      { seq: 5, kind: 1, tsOffsetNs: 9, timeUs: 99, sock: "ffff" },
      { seq: 6, kind: 1, tsOffsetNs: 10, timeUs: 1_750_000_000_000_000, sock: "ffff", newState: 4000 as TcpState },
    ],
  }).finish();
}

describe("consumer and hostile input", () => {
  it("counts and skips random bytes, a wrong message type and absurd values", async () => {
    consumer = await startConsumerService({ nc: h.nc, store: h.store, durableName: h.durable, malformedLogEvery: 1 });
    await h.js.publish(EVIL, randomBytes(512));
    await h.js.publish(EVIL, v1.Trace.encode({ traceId: "t".repeat(40), outcome: Outcome.OUTCOME_COMPLETED }).finish());
    await h.js.publish(EVIL, absurdBatch());
    // A batch mixing one plausible event with absurd ones keeps the plausible one.
    await h.js.publish(
      EVIL,
      v1.EventBatch.encode({
        node: "evil2",
        bootId: "x",
        agentStartUs: 1,
        firstSeq: 1,
        events: [
          { seq: 1, kind: 7, tsOffsetNs: 1000, timeUs: 1_750_000_000_000_000, sock: "ffff0001" },
          { seq: 2, kind: 0, tsOffsetNs: 1001, timeUs: 1_750_000_000_000_000, sock: "ffff0001" },
        ],
      }).finish(),
    );
    await waitFor(() => consumer!.stats().malformed === 3 && consumer!.stats().batchesConsumed === 1, { what: "the hostile messages handled" });

    const events = sequentialScenarios(["ok", "no-listener"]);
    await publishAll(h.publisher(), events);
    await waitFor(async () => (await h.store.stats()).traces === 2, { what: "2 traces" });

    const s = consumer.stats();
    expect(s.malformed).toBe(3); // random bytes and the Trace (terminated), the all-absurd batch (skipped)
    expect(s.rejectedEvents).toBe(6 + 1);
    expect(s.eventsConsumed).toBe(events.length + 1);
    expect((await h.store.stats()).events).toBe(events.length + 1);
    const outcomes = (await h.store.listTraces()).traces.map((t) => t.outcome).sort();
    expect(outcomes).toEqual([Outcome.OUTCOME_COMPLETED, Outcome.OUTCOME_REFUSED].sort());
  });

  it("names what makes each absurd event impossible", () => {
    const reasons = decodeBatch(absurdBatch()).events.map(insaneReason);
    expect(reasons).toEqual(["kind", "ts_ns", "endpoint", "sock", "time_us", "state"]);
    // A u64 the wire can carry but no clock (nor SQLite's int64) holds: 292+ years of uptime.
    const beyondInt64 = decodeBatch(
      v1.EventBatch.encode({
        node: "evil3",
        firstSeq: 1,
        baseS: 9_300_000_000,
        events: [
          { seq: 1, kind: 1, tsOffsetNs: 1, timeUs: 1_750_000_000_000_000, sock: "ffff" },
          { seq: 2, kind: EventKind.EVENT_KIND_GAP, tsOffsetNs: 2, timeUs: 1_750_000_000_000_000, gapStartOffsetNs: -1 },
        ],
      }).finish(),
    ).events;
    expect(beyondInt64.map(insaneReason)).toEqual(["ts_ns", "ts_ns"]);
    // Past 2^53 but a real clock (288 years of uptime): accepted.
    const old = decodeBatch(
      v1.EventBatch.encode({
        node: "ok",
        firstSeq: 1,
        baseS: 9_100_000_000,
        events: [{ seq: 1, kind: EventKind.EVENT_KIND_GAP, tsOffsetNs: 2, timeUs: 1_750_000_000_000_000, gapStartOffsetNs: -1 }],
      }).finish(),
    ).events;
    expect(old.map(insaneReason)).toEqual([null]);
    expect(old[0]!.gapStartNs).toBe(9_099_999_999_999_999_999n);
  });
});
