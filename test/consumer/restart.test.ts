// A consumer restart in the middle of a stream: half of N interleaved
// connections' events go to a first consumer, which acks them and stops while
// connections are still open; a second one with the same durable name and
// store gets the rest. Every trace must exist exactly once, with the outcome
// an uninterrupted stitch gives, and no alert may be repeated.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Outcome, type ConnEvent } from "../../src/model/mod.js";
import { startConsumerService, type ConsumerService } from "../../src/consumer/mod.js";
import { stitch } from "../trace/helpers/stitch.js";
import { waitFor } from "../helpers/mod.js";
import { consumerIdle, publishAll, startHarness, type Harness } from "./helpers/harness.js";
import { NODE, interleavedConnections, type InterleaveOptions, type Kind } from "./helpers/workload.js";

let h: Harness;
const running: ConsumerService[] = [];

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  for (const c of running.splice(0)) await c.stop().catch(() => undefined);
  await h.close();
});

const N = 30;
const kinds: Kind[] = Array.from({ length: N }, (_, i) => (["ok", "abort", "refused"] as const)[i % 3]!);

async function start(): Promise<ConsumerService> {
  const c = await startConsumerService({ nc: h.nc, store: h.store, durableName: h.durable, checkpointMs: 200 });
  running.push(c);
  return c;
}

async function storedOutcomes(): Promise<Map<string, Outcome>> {
  const page = await h.store.listTraces({ limit: 1000 });
  return new Map(page.traces.map((t) => [t.traceId, t.outcome]));
}

function reference(events: ConnEvent[]): Map<string, Outcome> {
  return new Map(stitch(events.map((event) => ({ node: NODE, event }))).traces.map((t) => [t.traceId, t.outcome]));
}

describe("consumer restart mid-stream", () => {
  const cases: [string, InterleaveOptions][] = [
    ["connections closing in reverse order", {}],
    // Connection 0 opens 10 s before the others and closes first: the restart
    // replays from the others' births, so connection 0's tail of events is
    // replayed without its birth and must not become a second trace.
    ["an early connection finishing before the restart", { pauseAfterFirstMs: 10_000, closeOrder: [0, ...Array.from({ length: N - 1 }, (_, i) => N - 1 - i)] }],
  ];

  it.each(cases)("loses no trace, duplicates none and repeats no alert: %s", async (_name, shape) => {
    const events = interleavedConnections(kinds, shape);
    const expected = reference(events);
    expect(expected.size).toBe(N);
    const refused = [...expected].filter(([, o]) => o === Outcome.OUTCOME_REFUSED).map(([id]) => id);
    expect(refused.length).toBe(N / 3);

    const publisher = h.publisher();
    // The cut: every connection open, 40% of them closed.
    const opens = interleavedConnections(kinds, { ...shape, closeOrder: [] }).length;
    const cut = opens + Math.floor((events.length - opens) * 0.4);
    const first = await start();
    await publishAll(publisher, events.slice(0, cut));
    await waitFor(() => first.stats().eventsConsumed === cut, { what: "the first part consumed" });
    // Let the connections that closed in the first part settle and alert:
    // as many traces as an uninterrupted stitch of that part finishes.
    const settled = stitch(events.slice(0, cut).map((event) => ({ node: NODE, event }))).traces.length;
    expect(settled).toBeGreaterThan(0);
    await waitFor(
      () => {
        const s = first.stats();
        return s.tracesStored === settled && s.alertsPublished === s.writer.alertsRaised;
      },
      { what: `the ${settled} traces finished before the restart stored and alerted` },
    );
    await first.stop();
    const before = await storedOutcomes();
    expect(before.size).toBeGreaterThan(0);
    expect(before.size).toBeLessThan(N); // open connections cross the restart
    expect(h.alerts.length).toBeGreaterThan(0);

    const second = await start();
    const replayed = second.stats().replayedEvents;
    await publishAll(publisher, events.slice(cut));
    await waitFor(async () => (await storedOutcomes()).size >= N, { what: `${N} traces stored` });
    await waitFor(() => consumerIdle(second), { what: "the second run idle" }); // then a wrong extra trace or alert would be out
    await h.nc.flush();
    await second.stop();

    const after = await storedOutcomes();
    expect(after).toEqual(expected);
    for (const [id, o] of before) expect(after.get(id)).toBe(o);

    // One alert per refused connection (each has its own destination), none twice.
    const alerted = h.alerts.map((a) => a.alert.traceId);
    expect(alerted.length).toBe(new Set(alerted).size);
    expect(new Set(alerted)).toEqual(new Set(refused));
    // Each trace published once on NATS, across both runs.
    const published = h.traces.map((t) => t.trace.traceId);
    expect(published.length).toBe(N);
    expect(new Set(published)).toEqual(new Set(expected.keys()));

    // The second run rebuilt open connections from the store and recognised
    // the traces the first run had already finished.
    expect(replayed).toBeGreaterThan(0);
    expect(second.stats().duplicateTraces).toBeGreaterThan(0);
  });

  it("a batch redelivered after the restart reaches the stitcher once", async () => {
    // Events replayed from the store and then delivered again must be
    // stitched once: a double feed would count more events than were published.
    const events = interleavedConnections(["ok", "refused", "abort"]);
    const expected = reference(events);
    const publisher = h.publisher();
    const first = await start();
    await publishAll(publisher, events.slice(0, 40));
    await waitFor(() => first.stats().eventsConsumed === 40, { what: "the first 40 events consumed" });
    await first.stop();
    const second = await start();
    await publishAll(publisher, events.slice(40));
    await waitFor(async () => (await storedOutcomes()).size >= expected.size, { what: "all traces" });
    await waitFor(() => consumerIdle(second), { what: "the second run idle" });
    expect(await storedOutcomes()).toEqual(expected);
    expect(second.stats().eventsConsumed).toBe(events.length - 40);
    expect(second.stats().stitcher.events).toBeLessThanOrEqual(events.length);
  });
});
