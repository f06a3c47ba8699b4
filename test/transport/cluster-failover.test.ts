// A 3-server NATS cluster (issue 14 part 2): the streams with 3 replicas, an
// agent's publisher and a real consumer service (SQLite store) both given all
// three URLs. The events stream's leader is killed with SIGKILL while events
// flow and restarted later: both sides fail over, and every event seq is in
// the stream once and stored by the consumer once. Counted three ways: the
// stream read back, the consumer's live hub (fed after each batch is
// persisted) and the consumer's own count.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { startConsumerService, type ConsumerService } from "../../src/consumer/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import { createLiveHub } from "../../src/query/server/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import {
  EVENTS_STREAM,
  EventPublisher,
  connectNats,
  ensureStreams,
  jetstream,
  jetstreamManager,
  type NatsConnection,
  type StreamLimitsOverrides,
} from "../../src/transport/mod.js";
import { makeTempDir, startNatsCluster, waitFor, type NatsCluster, type TempDir } from "../helpers/mod.js";
import { FAST_RETRY, makeEvents, range, readAll } from "./helpers.js";

const NODE = "failover-node";
const TOTAL = 3000;
const CHUNK = 30;
// Three servers share this machine's disk: small reservations, 3 replicas each.
const STREAMS: StreamLimitsOverrides = {
  replicas: 3,
  events: { maxBytes: 64 * 1024 ** 2 },
  traces: { maxBytes: 16 * 1024 ** 2 },
  alerts: { maxBytes: 16 * 1024 ** 2 },
};

let cluster: NatsCluster | undefined;
let dir: TempDir | undefined;
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  await cluster?.close();
  cluster = undefined;
  await dir?.remove();
  dir = undefined;
});

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("NATS cluster failover", () => {
  it("the events stream's leader is killed -9 mid-stream and restarted: every event seq is stored exactly once", { timeout: 60_000 }, async () => {
    cluster = await startNatsCluster({ label: "cluster-failover" });
    dir = await makeTempDir("cluster-failover-store");

    const agentNc: NatsConnection = await connectNats(cluster.urls, { name: "failover-agent", reconnectTimeWaitMs: 100 });
    cleanups.push(() => agentNc.close());
    const jsm = await jetstreamManager(agentNc);
    const created = await ensureStreams(jsm, STREAMS);
    for (const info of Object.values(created)) expect(info.config.num_replicas).toBe(3);

    const store = new SqliteTraceStore({ path: join(dir.path, "tcptrail.db"), log: silentLogger });
    cleanups.push(async () => store.close());
    const hub = createLiveHub();
    const stored = new Map<number, number>();
    hub.subscribeEvents((node, ev) => {
      if (node === NODE) stored.set(ev.seq ?? 0, (stored.get(ev.seq ?? 0) ?? 0) + 1);
    });
    const consumer: ConsumerService = await startConsumerService({ natsUrl: cluster.urls, store, hub, streams: STREAMS, logger: silentLogger });
    cleanups.push(() => consumer.stop());

    const publisher = new EventPublisher({ js: jetstream(agentNc), node: NODE, bootId: "failover-boot", agentStartUs: Date.now() * 1000, maxBatchEvents: 50, ...FAST_RETRY });
    cleanups.push(() => publisher.close(1000));
    const events = makeEvents(TOTAL, 1, NODE);

    // The first third flows and is stored before the kill: the consumer has a position to resume from.
    let pushed = 0;
    const pushUpTo = async (n: number) => {
      for (; pushed < n; pushed += CHUNK) {
        publisher.push(events.slice(pushed, pushed + CHUNK));
        await tick(5);
      }
    };
    await pushUpTo(TOTAL / 3);
    await waitFor(() => stored.size >= TOTAL / 6, { what: "the consumer storing events before the kill" });

    const leader = (await jsm.streams.info(EVENTS_STREAM)).cluster?.leader;
    expect(leader).toBeDefined();
    const killed = cluster.servers.find((s) => s.name === leader)!;
    const killedPid = killed.pid;
    await cluster.kill(killed.name);
    expect(cluster.servers.find((s) => s.name === leader)!.pid).toBeUndefined();
    expect(killedPid).toBeDefined();

    // Events keep coming while the remaining two elect a new leader.
    await pushUpTo((2 * TOTAL) / 3);
    await waitFor(
      async () => {
        const info = await jsm.streams.info(EVENTS_STREAM).catch(() => undefined);
        const now = info?.cluster?.leader;
        return now !== undefined && now !== leader ? now : undefined;
      },
      { what: "a new events stream leader", timeoutMs: 20_000, intervalMs: 200 },
    );
    await cluster.restart(killed.name);
    await pushUpTo(TOTAL);

    expect(await publisher.flush(30_000)).toBe(true);
    const p = publisher.stats();
    expect(p.dropped).toBe(0);
    expect(p.published).toBe(TOTAL);

    await waitFor(() => stored.size === TOTAL, { what: `the consumer storing all ${TOTAL} events`, timeoutMs: 30_000 });
    // Quiet for a while after the last one: a late redelivery would show up as a second count.
    const after = consumer.stats().eventsConsumed;
    await waitFor(async () => (await readAll(agentNc, { node: NODE })).seqs.length === TOTAL, { what: "the stream holding every event", timeoutMs: 10_000 });

    expect([...stored.keys()].sort((a, b) => a - b)).toEqual(range(1, TOTAL));
    expect([...stored.values()].filter((n) => n !== 1)).toEqual([]);
    expect(after).toBe(TOTAL);
    expect(consumer.stats().eventsConsumed).toBe(TOTAL);
    // The stream itself: each seq once (the publisher's msgIDs dedupe retried batches across the failover).
    expect((await readAll(agentNc, { node: NODE })).seqs).toEqual(range(1, TOTAL));
  });
});
