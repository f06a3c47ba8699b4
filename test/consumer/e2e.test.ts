// The consumer end to end through a real nats-server and SQLite: events
// published like an agent does become traces in the store, on the query API,
// on tcptrail.v1.traces.<outcome>, and alerts on tcptrail.v1.alerts.* for the
// outcomes the default rules watch (refused, untraced reset) and not for ok.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createMetrics } from "../../src/metrics/mod.js";
import { Outcome, outcomeName } from "../../src/model/mod.js";
import type { TraceJson } from "../../src/query/mod.js";
import { createLiveHub, startQueryServer, type QueryServer } from "../../src/query/server/mod.js";
import { startConsumerService, type ConsumerService } from "../../src/consumer/mod.js";
import { stitch } from "../trace/helpers/stitch.js";
import { waitFor } from "../helpers/mod.js";
import { publishAll, startHarness, type Harness } from "./helpers/harness.js";
import { NODE, sequentialScenarios } from "./helpers/workload.js";

let h: Harness;
let consumer: ConsumerService | undefined;
let api: QueryServer | undefined;

beforeEach(async () => {
  h = await startHarness();
});
afterEach(async () => {
  await api?.close().catch(() => undefined);
  await consumer?.stop().catch(() => undefined);
  api = consumer = undefined;
  await h.close();
});

describe("consumer end to end", () => {
  it("stores, serves, publishes and alerts on stitched traces", async () => {
    const events = sequentialScenarios(["ok", "app-abort-fin", "no-listener", "reject"]);
    // What an uninterrupted in-memory stitch of the same events gives.
    const expected = new Map(stitch(events.map((event) => ({ node: NODE, event }))).traces.map((t) => [t.traceId, t.outcome]));
    expect([...expected.values()].sort()).toEqual(
      [Outcome.OUTCOME_COMPLETED, Outcome.OUTCOME_RESET_BY_SERVER, Outcome.OUTCOME_REFUSED, Outcome.OUTCOME_RESET_UNTRACED].sort(),
    );

    const metrics = createMetrics({ defaultMetrics: false });
    const hub = createLiveHub();
    const live: string[] = [];
    hub.subscribeTraces((t) => live.push(t.traceId ?? ""));
    consumer = await startConsumerService({ nc: h.nc, store: h.store, hub, metrics, durableName: h.durable });
    api = await startQueryServer({ store: h.store, hub, port: 0 });

    await publishAll(h.publisher(), events);
    await waitFor(async () => (await h.store.stats()).traces === 4, { what: "4 traces in the store" });
    await waitFor(() => h.traces.length === 4, { what: "4 traces on NATS" });
    await waitFor(() => h.alerts.length >= 2, { what: "2 alerts" });

    // The query API returns exactly those traces, with their outcomes.
    const res = await fetch(`${api.url}/api/v1/traces`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { traces: TraceJson[] };
    const fromApi = new Map(body.traces.map((t) => [t.trace_id, t.outcome]));
    expect(fromApi).toEqual(new Map([...expected].map(([id, o]) => [id, outcomeName(o)])));

    // Published on the subject of their outcome, once each.
    for (const { subject, trace } of h.traces) {
      expect(expected.get(trace.traceId)).toBe(trace.outcome);
      expect(subject).toBe(`tcptrail.v1.traces.${outcomeName(trace.outcome).toLowerCase()}`);
    }
    expect(new Set(h.traces.map((t) => t.trace.traceId)).size).toBe(4);
    expect(new Set(live)).toEqual(new Set(expected.keys()));

    // Alerts: for refused and untraced reset only, each naming its trace.
    // Alerts are raised as each trace is stored: once every raised one is
    // published (on h.nc, which also carries the subscription), a flush has
    // them all delivered, a wrong extra one included.
    await waitFor(() => consumer!.stats().alertsPublished === consumer!.stats().writer.alertsRaised, { what: "every raised alert published" });
    await h.nc.flush();
    const alerted = new Map(h.alerts.map(({ alert }) => [alert.traceId, alert.rule]));
    const idOf = (o: Outcome) => [...expected].find(([, v]) => v === o)![0];
    expect(alerted).toEqual(
      new Map([
        [idOf(Outcome.OUTCOME_REFUSED), "refused"],
        [idOf(Outcome.OUTCOME_RESET_UNTRACED), "reset-untraced"],
      ]),
    );
    for (const { subject } of h.alerts) expect(subject).toBe("tcptrail.v1.alerts.warning");

    const s = consumer.stats();
    expect(s).toMatchObject({ eventsConsumed: events.length, malformed: 0, tracesStored: 4, alertsPublished: 2, duplicateTraces: 0 });
    expect(s.tracesPublished).toBe(4);
    expect(s.lagMs).toBeGreaterThan(0);

    // Raw events are stored too (the timeline comes from them).
    expect((await h.store.stats()).events).toBe(events.length);
    await consumer.stop();
    const stored = (await metrics.registry.getSingleMetric("tcptrail_consumer_traces_stored_total")!.get()).values[0]!.value;
    expect(stored).toBe(4);
  });

  it("rejects options it cannot run with", async () => {
    const { isConsumerOptionsError } = await import("../../src/consumer/mod.js");
    const err = await startConsumerService({ store: h.store }).catch((e: unknown) => e);
    expect(isConsumerOptionsError(err)).toBe(true);
    const err2 = await startConsumerService({ nc: h.nc, store: h.store, durableName: "a.b" }).catch((e: unknown) => e);
    expect(isConsumerOptionsError(err2)).toBe(true);
  });
});
