// The store's disk fills up under a running consumer, then space comes back
// (root: a real tmpfs of a few MiB, a real nats-server, the SQLite store).
// While full: /healthz says degraded with the reason, the metrics count the
// failures and show the store unhealthy, one log line and one alert say so
// (not one per retry), and nothing that was not stored is acked. Once freed:
// one recovery line and alert, every batch acked, every trace stored exactly
// once, as an uninterrupted run stores them.
import { Writable } from "node:stream";
import { join } from "node:path";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, expect } from "vitest";
import { decodeAlert } from "../../src/alert/mod.js";
import { StoreHealth, startConsumerService, type ConsumerService } from "../../src/consumer/mod.js";
import type { Alert, ConnEvent } from "../../src/model/mod.js";
import { buildQueryApp } from "../../src/query/server/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { ALERTS_WILDCARD, EVENTS_STREAM, EventPublisher } from "../../src/transport/mod.js";
import { stitch } from "../trace/helpers/stitch.js";
import { describeRoot, itRoot, setupNats, waitFor, type NatsSetup } from "../helpers/mod.js";
import { consumerIdle, suffix } from "./helpers/harness.js";
import { mountTinyFs, type TinyFs } from "./helpers/tiny-fs.js";
import { NODE, interleavedConnections, type Kind } from "./helpers/workload.js";

const N = 60;
const kinds: Kind[] = Array.from({ length: N }, (_, i) => (["ok", "abort", "refused"] as const)[i % 3]!);

let fs: TinyFs | undefined;
let nats: NatsSetup | undefined;
let store: SqliteTraceStore | undefined;
let consumer: ConsumerService | undefined;
let publisher: EventPublisher | undefined;
const cleanups: (() => unknown)[] = [];

const logs: { level: number; msg: string }[] = [];
const logger = pino(
  { level: "info" },
  new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split("\n").filter(Boolean)) logs.push(JSON.parse(line) as { level: number; msg: string });
      done();
    },
  }),
);

beforeAll(async () => {
  // Nothing to mount without root; the describe below is skipped then.
  if (process.getuid?.() !== 0) return;
  fs = await mountTinyFs(6 * 1024 * 1024, "store-full");
  nats = await setupNats({ label: "store-full-nats" });
  store = new SqliteTraceStore({ path: join(fs.path, "tcptrail.db") });
});

afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await Promise.resolve(c()).catch(() => undefined);
  await publisher?.close(1000).catch(() => undefined);
  await consumer?.stop().catch(() => undefined);
  await store?.close().catch(() => undefined);
  await nats?.close();
  await fs?.close();
});

const metric = (text: string, name: string): number => {
  const line = text.split("\n").find((l) => l.startsWith(name));
  return line ? Number(line.split(" ").at(-1)) : NaN;
};

describeRoot("the store's disk fills up and is freed", () => {
  itRoot("degrades visibly, acks nothing it could not store, and stores every trace once space is back", async () => {
    const { nc, js, jsm } = nats!;
    const registry = new Registry();
    const health = new StoreHealth({ logger, metrics: { registry } });
    const alerts: Alert[] = [];
    const sub = nc.subscribe(ALERTS_WILDCARD, { callback: (_e, m) => void alerts.push(decodeAlert(m.data)) });
    cleanups.push(() => sub.unsubscribe());
    await nc.flush();
    const durable = `full-${suffix()}`;
    consumer = await startConsumerService({ nc, store: store!, durableName: durable, storeHealth: health, metrics: { registry }, logger, checkpointMs: 200, storeRetryMs: 20 });
    const app = await buildQueryApp({ store: store!, storeHealth: () => health.state() });
    cleanups.push(() => app.close());
    const healthz = async () => {
      const r = await app.inject({ method: "GET", url: "/api/v1/healthz" });
      return { code: r.statusCode, body: r.json() as { status: string; reason?: string; kind?: string } };
    };
    expect(await healthz()).toEqual({ code: 200, body: { status: "ok" } });
    expect(metric(await registry.metrics(), "tcptrail_store_healthy")).toBe(1);

    const events: ConnEvent[] = interleavedConnections(kinds);
    const expected = new Set(stitch(events.map((event) => ({ node: NODE, event }))).traces.map((t) => t.traceId));
    expect(expected.size).toBe(N);

    fs!.fill();
    publisher = new EventPublisher({ js, node: NODE, bootId: `boot-${suffix()}`, agentStartUs: Date.now() * 1000, maxBatchEvents: 32 });
    publisher.push(events);
    expect(await publisher.flush(10_000)).toBe(true);
    const lastSeq = (await jsm.streams.info(EVENTS_STREAM)).state.last_seq;
    const batches = Math.ceil(events.length / 32);
    expect(lastSeq).toBe(batches);

    // Degraded, and it stays so over many retries with one line and one alert.
    await waitFor(() => health.state().status === "degraded", { what: "the store degraded" });
    await waitFor(async () => {
      const failures = Number((await registry.getSingleMetricAsString("tcptrail_store_write_errors_total")).match(/kind="full"} (\d+)/)?.[1] ?? 0);
      return failures >= 5;
    }, { what: "five failed writes of kind full" });
    const during = await healthz();
    expect(during.code).toBe(200);
    expect(during.body.status).toBe("degraded");
    expect(during.body.kind).toBe("full");
    expect(during.body.reason).toMatch(/full/i);
    const text = await registry.metrics();
    expect(metric(text, "tcptrail_store_healthy")).toBe(0);
    expect(logs.filter((l) => /trace store degraded/.test(l.msg))).toHaveLength(1);
    await waitFor(() => alerts.some((a) => a.rule === "store-degraded"), { what: "the store-degraded alert" });
    // Not acked: the ack floor is short of the stream, by at least the batch in hand.
    const held = await jsm.consumers.info(EVENTS_STREAM, durable);
    expect(held.ack_floor.stream_seq).toBeLessThan(lastSeq);
    expect(consumer.stats().batchesConsumed).toBeLessThan(batches);
    expect(consumer.stats().batchesConsumed).toBe(held.ack_floor.stream_seq);

    fs!.free();
    await waitFor(() => health.state().status === "ok", { what: "the store recovered", timeoutMs: 15_000 });
    await waitFor(async () => (await jsm.consumers.info(EVENTS_STREAM, durable)).ack_floor.stream_seq === lastSeq, { what: "every batch acked" });
    await waitFor(() => consumerIdle(consumer!) && consumer!.stats().tracesStored === N, { what: `all ${N} traces stored`, timeoutMs: 15_000 });
    const stored = (await store!.listTraces({ limit: 1000 })).traces.map((t) => t.traceId);
    expect(stored).toHaveLength(N);
    expect(new Set(stored)).toEqual(expected);
    expect(consumer.stats().eventsConsumed).toBe(events.length);
    expect(await healthz()).toEqual({ code: 200, body: { status: "ok" } });
    expect(metric(await registry.metrics(), "tcptrail_store_healthy")).toBe(1);
    expect(logs.filter((l) => /trace store recovered/.test(l.msg))).toHaveLength(1);
    expect(logs.filter((l) => /trace store degraded/.test(l.msg))).toHaveLength(1);
    await waitFor(() => alerts.some((a) => a.rule === "store-recovered"), { what: "the store-recovered alert" });
    expect(alerts.filter((a) => a.rule === "store-degraded")).toHaveLength(1);
  }, 60_000);
});
