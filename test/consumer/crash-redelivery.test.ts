// Consumers killed mid-stream, as `tcptrail run` is by test/faults/run-kill
// (whose CI failure was connections before the GAP with no trace at all):
// - one dies with batches delivered but not acked. JetStream redelivers those
//   only after the ack wait, so the next consumer first gets what follows them
//   in the stream (here the crash GAP the next agent start publishes under the
//   dead run's origin, its seq 2^32 past the run's last) and the redelivered
//   batches afterwards, with lower seqs of the same source; never persisted
//   nor stitched, every connection in them must still become its trace.
// - one dies before its first periodic checkpoint: the next one must still
//   replay the events it acked.
import { afterEach, beforeEach, expect, it } from "vitest";
import { Outcome, type ConnEvent } from "../../src/model/mod.js";
import { startConsumerService, type ConsumerService } from "../../src/consumer/mod.js";
import { unpublishedGap } from "../../src/runtime/unpublished-gap.js";
import { HIGH_WATER_RECORD_VERSION } from "../../src/runtime/unpublished-ledger.js";
import type { TraceStore } from "../../src/store/mod.js";
import { EventPublisher, batchMsgId, connectNats, encodeBatch, eventsSubject } from "../../src/transport/mod.js";
import { stitch } from "../trace/helpers/stitch.js";
import { waitFor } from "../helpers/mod.js";
import { consumerIdle, publishAll, startHarness, suffix, type Harness } from "./helpers/harness.js";
import { NODE, interleavedConnections, type Kind } from "./helpers/workload.js";

let h: Harness;
const running: ConsumerService[] = [];
const publishers: EventPublisher[] = [];

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop().catch(() => undefined);
  for (const p of publishers.splice(0)) await p.close(1000).catch(() => undefined);
  await h.close();
});

/**
 * The harness's store, whose event writes fail while `failing` is set (a
 * consumer stuck before its ack), and every write while `dead` is (a killed
 * process writes nothing more: no trace, no checkpoint).
 */
function flakyStore(store: TraceStore): { store: TraceStore; failing: boolean; dead: boolean; failures: number } {
  const ctl = { failing: false, dead: false, failures: 0, store: undefined as unknown as TraceStore };
  const writes: ReadonlySet<PropertyKey> = new Set(["putTraces", "setMeta"]);
  ctl.store = new Proxy(store, {
    get(target, key) {
      if (writes.has(key) && ctl.dead) return () => Promise.reject(new Error("process gone"));
      if (key === "putEvents") {
        return (...args: Parameters<TraceStore["putEvents"]>) => {
          if (ctl.failing || ctl.dead) {
            ctl.failures++;
            return Promise.reject(new Error("disk gone"));
          }
          return target.putEvents(...args);
        };
      }
      const v = Reflect.get(target, key, target) as unknown;
      // The store's private fields need the real object as `this`.
      return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return ctl;
}

const N = 30;
const kinds: Kind[] = Array.from({ length: N }, (_, i) => (["ok", "abort", "refused"] as const)[i % 3]!);
// Short, so the redelivery comes within the test; the order it causes is the same as with 30 s.
const ACK_WAIT_MS = 1000;

it("batches a dead consumer held unacked are stitched when redelivered after the crash GAP", { timeout: 60_000 }, async () => {
  const events: ConnEvent[] = interleavedConnections(kinds);
  const expected = new Map(stitch(events.map((event) => ({ node: NODE, event }))).traces.map((t) => [t.traceId, t.outcome]));
  expect(expected.size).toBe(N);

  const origin = { node: NODE, bootId: `boot-${suffix()}`, agentStartUs: Date.now() * 1000 };
  const agent = new EventPublisher({ js: h.js, ...origin, maxBatchEvents: 16 });
  publishers.push(agent);
  const flaky = flakyStore(h.store);
  const first = await startConsumerService({ nc: h.nc, store: flaky.store, durableName: h.durable, checkpointMs: 200, consumer: { ackWaitMs: ACK_WAIT_MS } });
  running.push(first);

  const cut = Math.floor(events.length * 0.6);
  await publishAll(agent, events.slice(0, cut));
  await waitFor(() => first.stats().eventsConsumed === cut, { what: "the first part consumed" });
  // The rest is delivered to the first consumer, which cannot persist it, so never acks it; then it is gone.
  flaky.failing = true;
  await publishAll(agent, events.slice(cut));
  await waitFor(() => flaky.failures > 0, { what: "the first consumer holding the rest unacked" });
  await first.stop();
  running.splice(running.indexOf(first), 1);
  flaky.failing = false;

  // The next agent start reports the dead run's unpublished tail: a GAP after its last seq, past anything it reached.
  const lastTs = events[events.length - 1]!.tsNs;
  const gap = unpublishedGap(
    {
      version: HIGH_WATER_RECORD_VERSION,
      ...origin,
      lastSeq: Math.max(...events.map((e) => e.seq)),
      unpublished: 0,
      spanStartNs: String(lastTs + 1_000_000n),
      spanEndNs: String(lastTs + 2_000_000n),
      timeUs: events[events.length - 1]!.timeUs + 2000,
      final: false,
      savedAtMs: Date.now(),
    },
    "another-boot", // not extended to this test's clock
  );
  await h.js.publish(eventsSubject(NODE), encodeBatch(origin, [gap]), { msgID: batchMsgId(origin, gap.seq!) });

  const second = await startConsumerService({ nc: h.nc, store: h.store, durableName: h.durable, checkpointMs: 200, consumer: { ackWaitMs: ACK_WAIT_MS } });
  running.push(second);
  const stored = async () => new Map((await h.store.listTraces({ limit: 1000 })).traces.map((t) => [t.traceId, t.outcome]));
  // On a timeout the comparison below says which traces are missing.
  const all = await waitFor(async () => (await stored()).size >= N, { what: `${N} traces stored`, timeoutMs: 20_000 }).then(
    () => true,
    () => false,
  );
  if (all) await waitFor(() => consumerIdle(second), { what: "the second consumer idle" });
  const after = await stored();
  expect(after.size, "traces stored").toBe(N);
  expect(after).toEqual(expected);
  expect([...after.values()].filter((o) => o === Outcome.OUTCOME_REFUSED)).toHaveLength(N / 3);
  // Each event reached the stitchers once across both runs: the redelivered part in full, nothing twice.
  expect(first.stats().eventsConsumed + second.stats().eventsConsumed).toBe(events.length + 1);
});

it("a consumer killed before its first periodic checkpoint still has its acked events replayed", { timeout: 60_000 }, async () => {
  // The first checkpoint period had not passed when it died: tcptrail run
  // killed 2 s after its first events (test/faults/run-kill.test.ts) left no
  // checkpoint, so the next run replayed nothing and the connections open at
  // the kill, whose first events it had acked, never became traces.
  const events: ConnEvent[] = interleavedConnections(kinds);
  const expected = new Map(stitch(events.map((event) => ({ node: NODE, event }))).traces.map((t) => [t.traceId, t.outcome]));
  const origin = { node: NODE, bootId: `boot-${suffix()}`, agentStartUs: Date.now() * 1000 };
  const agent = new EventPublisher({ js: h.js, ...origin, maxBatchEvents: 16 });
  publishers.push(agent);
  const flaky = flakyStore(h.store);
  const nc = await connectNats(h.natsUrl, { name: "doomed-consumer", maxReconnectAttempts: 0 });
  const first = await startConsumerService({ nc, store: flaky.store, durableName: h.durable, checkpointMs: 600_000 });
  running.push(first);
  const cut = Math.floor(events.length * 0.6);
  await publishAll(agent, events.slice(0, cut));
  await waitFor(() => first.stats().eventsConsumed === cut, { what: "the first part consumed and acked" });
  // Killed: it writes nothing more and its connection is gone.
  flaky.dead = true;
  await nc.close();

  const second = await startConsumerService({ nc: h.nc, store: h.store, durableName: h.durable, checkpointMs: 200 });
  running.push(second);
  expect(second.stats().replayedEvents, "events replayed from the store").toBeGreaterThan(0);
  await publishAll(agent, events.slice(cut));
  const stored = async () => new Map((await h.store.listTraces({ limit: 1000 })).traces.map((t) => [t.traceId, t.outcome]));
  await waitFor(async () => (await stored()).size >= N, { what: `${N} traces stored`, timeoutMs: 10_000 }).catch(() => undefined);
  await waitFor(() => consumerIdle(second), { what: "the second consumer idle" });
  expect(await stored()).toEqual(expected);
});
