// Fuzzing every step an event batch from tcptrail.v1.events.<node> goes
// through before it becomes traces: decodeBatch (the durable consumer and
// `observe` call it on every message), the consumer's sanity check, and what
// the consumer does with the events it keeps (store them, render them for the
// live API, stitch them). Anything may be published on the subject, so each
// message must end as a clear MalformedMessageError or as sane events the
// rest of the pipeline takes without throwing: a throw there would stop the
// consumer, and a store write that always fails would be retried forever.
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { v1, type ConnEvent } from "../../src/model/mod.js";
import { saneEvents } from "../../src/consumer/mod.js";
import { PendingSockets } from "../../src/consumer/pending-sockets.js";
import { ReplayFilter } from "../../src/consumer/replay-filter.js";
import { StreamHighWater } from "../../src/consumer/stream-high-water.js";
import { eventToJson } from "../../src/query/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { Stitcher, isTooManyNodesError } from "../../src/trace/mod.js";
import { decodeBatch, encodeBatch, isMalformedMessageError, type DecodedBatch } from "../../src/transport/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";
import { CaseCount, applyByteEdits, editsArb, fuzzParams, withinHangLimit } from "./budget.js";
import { agentEvents, batchProps, fieldOverride, headerOverride, origin, unsaneField, withOverrides } from "./wire-events.js";

const count = new CaseCount();

/** What the consumer is left with from one message. */
interface Handled {
  batch: DecodedBatch | null;
  kept: ConnEvent[];
  rejected: number;
}

/**
 * decodeBatch and the sanity check, as the consumer applies them, with what
 * must hold of the result whatever the bytes were.
 */
function handle(bytes: Uint8Array): Handled {
  let batch: DecodedBatch;
  try {
    batch = withinHangLimit(
      () => `decoding ${bytes.length} bytes`,
      () => decodeBatch(bytes),
    );
  } catch (e) {
    // The one failure the durable consumer expects: it counts and terminates the message.
    if (!isMalformedMessageError(e)) throw e;
    if (!e.message.startsWith("malformed event batch: ")) throw new Error(`unclear error: ${e.message}`);
    return { batch: null, kept: [], rejected: 0 };
  }
  // What decodeBatch promises of a batch it returns.
  if (batch.node.length < 1 || batch.node.length > 253) throw new Error(`node ${JSON.stringify(batch.node)}`);
  if (!(batch.firstSeq >= 1) || batch.events.length === 0 || batch.events[0]!.seq !== batch.firstSeq) throw new Error("first_seq");
  // Never more events than bytes: a hostile length cannot make the decoder allocate beyond its input.
  if (batch.events.length > bytes.length) throw new Error(`${batch.events.length} events from ${bytes.length} bytes`);
  for (let i = 0; i < batch.events.length; i++) {
    const e = batch.events[i]!;
    if (i > 0 && !(e.seq > batch.events[i - 1]!.seq)) throw new Error("seqs do not increase");
    if (typeof e.tsNs !== "bigint" || typeof e.gapStartNs !== "bigint") throw new Error("kernel times are not exact");
  }
  const sane = saneEvents(batch.events);
  if (sane.events.length + sane.rejected !== batch.events.length) throw new Error("sanity lost or invented events");
  if (sane.rejected > 0 && sane.firstReason === null) throw new Error("a rejection without a reason");
  for (const e of sane.events) {
    const why = unsaneField(e);
    if (why !== null) throw new Error(`kept an event with an impossible ${why}: seq ${e.seq}`);
  }
  return { batch, kept: sane.events, rejected: sane.rejected };
}

describe("event batches under fuzzing", () => {
  test("arbitrary bytes: a MalformedMessageError or a sane batch", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        count.add();
        handle(bytes);
      }),
      fuzzParams(35_000),
    );
  });

  test("what an agent encodes decodes to the same events, all kept", () => {
    fc.assert(
      fc.property(origin, agentEvents, (o, events) => {
        count.add();
        const h = handle(encodeBatch(o, events));
        expect(h.batch).not.toBeNull();
        expect(h.rejected).toBe(0);
        expect(h.batch!.node).toBe(o.node);
        expect(h.kept.map((e) => [e.seq, e.tsNs, e.gapStartNs])).toEqual(events.map((e) => [e.seq, e.tsNs, e.gapStartNs ?? 0n]));
      }),
      fuzzParams(3_000),
    );
  });

  // Generating a batch costs far more than decoding it, so each generated
  // batch is broken in VARIANTS different ways, each a case of its own.
  const VARIANTS = 20;

  test("an agent's batch with bytes flipped, inserted, deleted or cut", () => {
    const decoded = { ok: 0, malformed: 0 };
    const edits = editsArb(fc.string({ unit: "binary", maxLength: 6 }), 3);
    fc.assert(
      fc.property(origin, agentEvents, fc.array(edits, { minLength: VARIANTS, maxLength: VARIANTS }), (o, events, editSets) => {
        const bytes = encodeBatch(o, events);
        for (const e of editSets) {
          count.add();
          if (handle(applyByteEdits(bytes, e)).batch) decoded.ok++;
          else decoded.malformed++;
        }
      }),
      fuzzParams(1_500),
    );
    // Both ends were reached: the property is not vacuous.
    expect(decoded.ok).toBeGreaterThan(0);
    expect(decoded.malformed).toBeGreaterThan(0);
  });

  test("any value in a field of the message", () => {
    const seen = { kept: 0, rejected: 0 };
    const variant = fc.tuple(fc.option(headerOverride, { freq: 8, nil: {} }), fc.array(fieldOverride, { minLength: 1, maxLength: 3 }));
    fc.assert(
      fc.property(origin, agentEvents, fc.array(variant, { minLength: VARIANTS, maxLength: VARIANTS }), (o, events, variants) => {
        const props = batchProps(o, events);
        for (const [header, overrides] of variants) {
          count.add();
          const h = handle(v1.EventBatch.encode(withOverrides(props, header, overrides)).finish());
          seen.kept += h.kept.length;
          seen.rejected += h.rejected;
        }
      }),
      fuzzParams(2_000),
    );
    expect(seen.kept).toBeGreaterThan(0);
    expect(seen.rejected).toBeGreaterThan(0);
  });

  test(`the decoders saw at least the budget of generated messages`, () => {
    count.expectBudgetSpent();
  });
});

/**
 * What the consumer does with a batch's sane events (ConsumerRun.#process):
 * skip what its stream already fed, persist, render for the live API, note
 * births, filter, stitch. The NATS part is test/consumer/hostile.test.ts's.
 */
describe("the consumer's handling of the events it keeps", () => {
  let dir: TempDir;
  let store: SqliteTraceStore;
  beforeAll(async () => {
    dir = await makeTempDir("fuzz-events");
    store = new SqliteTraceStore({ path: join(dir.path, "tcptrail.db") });
  });
  afterAll(async () => {
    store?.close();
    await dir?.remove();
  });

  test("stored, rendered and stitched without a throw", async () => {
    const highWater = new StreamHighWater();
    const pending = new PendingSockets(60_000);
    const filter = new ReplayFilter();
    filter.endReplay();
    let nowMs = 1_750_000_000_000;
    const stitcher = new Stitcher({ clock: () => nowMs, onTrace: () => undefined });
    const tally = { stored: 0, batches: 0 };
    const message = fc.oneof(
      fc.tuple(origin, agentEvents).map(([o, events]) => encodeBatch(o, events)),
      fc
        .tuple(origin, agentEvents, fc.option(headerOverride, { freq: 4, nil: {} }), fc.array(fieldOverride, { minLength: 1, maxLength: 2 }))
        .map(([o, events, header, overrides]) => v1.EventBatch.encode(withOverrides(batchProps(o, events), header, overrides)).finish()),
      fc.tuple(origin, agentEvents, editsArb(fc.string({ unit: "binary", maxLength: 4 }), 2)).map(([o, events, edits]) => applyByteEdits(encodeBatch(o, events), edits)),
    );
    await fc.assert(
      fc.asyncProperty(message, async (bytes) => {
        const { batch, kept } = handle(bytes);
        if (!batch || kept.length === 0) return;
        tally.batches++;
        const fresh = highWater.fresh(batch, kept);
        if (fresh.length === 0) return;
        // A write that throws here would be retried forever by the consumer: the batch is never acked.
        const put = await store.putEvents(batch, fresh);
        tally.stored += put.written;
        for (const e of fresh) JSON.stringify(eventToJson(batch.node, e));
        nowMs += 10;
        pending.observe(batch.node, fresh, nowMs);
        const admitted = filter.admit(batch.node, fresh);
        try {
          stitcher.ingest(batch.node, admitted);
        } catch (e) {
          // The consumer logs and skips this one limit; anything else would be a stitcher bug.
          if (!isTooManyNodesError(e)) throw e;
        }
        stitcher.tick(nowMs);
        highWater.advance(batch, fresh);
      }),
      fuzzParams(2_500),
    );
    expect(tally.batches).toBeGreaterThan(0);
    expect((await store.stats()).events).toBe(tally.stored);
  });
});
