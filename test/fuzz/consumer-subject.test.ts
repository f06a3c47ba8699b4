// The durable consumer's own handling of fuzzed messages, through a real
// nats-server and the real consumer service (event-batches.test.ts drives
// the same steps in-process, at volume): every message published on
// tcptrail.v1.events.> ends counted, as malformed or as a consumed batch,
// and the consumer still turns a good workload into events afterwards.
import fc from "fast-check";
import { afterAll, beforeAll, describe, test } from "vitest";
import { startConsumerService, type ConsumerService } from "../../src/consumer/mod.js";
import { Outcome, v1 } from "../../src/model/mod.js";
import { encodeBatch } from "../../src/transport/mod.js";
import { waitFor } from "../helpers/mod.js";
import { publishAll, startHarness, type Harness } from "../consumer/helpers/harness.js";
import { sequentialScenarios } from "../consumer/helpers/workload.js";
import { applyByteEdits, editsArb, fuzzParams } from "./budget.js";
import { agentEvents, batchProps, fieldOverride, kernelTimeEdges, origin, withOverrides } from "./wire-events.js";

const MESSAGES_PER_RUN = 60;
const RUNS = 5;

let h: Harness;
let consumer: ConsumerService;

beforeAll(async () => {
  h = await startHarness();
  consumer = await startConsumerService({ nc: h.nc, store: h.store, durableName: h.durable, malformedLogEvery: 1_000_000 });
});
afterAll(async () => {
  await consumer?.stop().catch(() => undefined);
  await h?.close();
});

/** Messages the consumer has finished with, one way or the other. */
const handled = (): number => {
  const s = consumer.stats();
  return s.malformed + s.batchesConsumed;
};

describe("the consumer service under fuzzed messages", () => {
  test("every message is counted once, as malformed or consumed, and none stops the consumer", async () => {
    const message = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(origin, agentEvents).map(([o, events]) => encodeBatch(o, events)),
      fc.tuple(origin, agentEvents, editsArb(fc.string({ unit: "binary", maxLength: 4 }), 2)).map(([o, events, edits]) => applyByteEdits(encodeBatch(o, events), edits)),
      fc
        .tuple(origin, agentEvents, fc.oneof(fc.array(fieldOverride, { minLength: 1, maxLength: 2 }), kernelTimeEdges))
        .map(([o, events, overrides]) => v1.EventBatch.encode(withOverrides(batchProps(o, events), {}, overrides)).finish()),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(message, { minLength: MESSAGES_PER_RUN, maxLength: MESSAGES_PER_RUN }), fc.string({ minLength: 1, maxLength: 12 }), async (messages, node) => {
        const before = handled();
        for (const m of messages) await h.js.publish(`tcptrail.v1.events.${encodeURIComponent(node).replace(/[.*>%]/g, "_")}`, m);
        // A message the consumer can neither count nor finish (a store write that
        // always fails, a throw that ends its loop) never shows up here.
        await waitFor(() => handled() === before + messages.length, { what: `${messages.length} fuzzed messages handled`, timeoutMs: 15_000 });
      }),
      // Shrinking would re-publish against a consumer that has moved on; the failing run is printed as is.
      { ...fuzzParams(RUNS), endOnFailure: true },
    );
    const events = sequentialScenarios(["ok", "no-listener"]);
    const consumed = consumer.stats().eventsConsumed;
    await publishAll(h.publisher(), events);
    await waitFor(() => consumer.stats().eventsConsumed === consumed + events.length, { what: "the good workload consumed" });
    // And stitched as before: the workload's two traces are stored.
    await waitFor(
      async () => {
        const outcomes = (await h.store.listTraces({ limit: 1000 })).traces.map((t) => t.outcome);
        return outcomes.includes(Outcome.OUTCOME_COMPLETED) && outcomes.includes(Outcome.OUTCOME_REFUSED);
      },
      { what: "the workload's completed and refused traces" },
    );
  });
});
