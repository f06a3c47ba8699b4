// N simulated nodes into one consumer (issue 14, docs/SCALING.md): what one
// nats-server takes in from many agents, and what one consumer process (durable
// pull → stitch → SQLite) gets through, measured on this machine, so the
// paper scaling to 100 and 1,000 nodes starts from numbers, not guesses.
//
// 1. Ingest: one EventPublisher per node (as each node's agent has one), all
//    pushing plain connections (plain-connection.ts: 14 events each, with the
//    node's own addresses so no two nodes' tuples meet) as fast as JetStream
//    acks them; events/s acked across all nodes.
// 2. Consume: a consumer service started after the stream holds everything,
//    so it runs flat out; events/s from its start until every connection's
//    trace is stored (the last node's tail settles about a second after its
//    last event, as a live one does), and traces/s.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { silentLogger } from "../src/log/logger.js";
import { startConsumerService } from "../src/consumer/mod.js";
import { SqliteTraceStore } from "../src/store/mod.js";
import { EVENTS_STREAM, EventPublisher, connectNats, ensureStreams, jetstream, jetstreamManager, startEmbeddedNats } from "../src/transport/mod.js";
import { plainConnection } from "./plain-connection.js";

/** Simulated nodes. */
export const DEFAULT_SCALE_NODES = 20;
/** Connections per node: 20 × 5,000 × 14 = 1.4M events. */
export const DEFAULT_SCALE_CONNECTIONS_PER_NODE = 5_000;
/** Give up on the consumer after this long. */
const CONSUME_TIMEOUT_MS = 600_000;

export interface ScaleBenchOptions {
  nodes: number;
  connectionsPerNode: number;
}

export interface ScaleBenchResult {
  nodes: number;
  connections: number;
  events: number;
  /** Events acked by JetStream per second, all nodes' publishers together. */
  ingestEventsPerSec: number;
  /** Events per second through one consumer, from its start to the last trace stored. */
  consumeEventsPerSec: number;
  tracesPerSec: number;
  /** Connections whose own trace (by its id) was stored: all of them when nothing was lost. */
  traces: number;
  /** Stored traces that are no connection's own: a split or a mis-pairing across nodes. */
  extraTraces: number;
  /** Stream bytes per event as JetStream stored them (batched protobuf). */
  streamBytesPerEvent: number;
}

/** Node k's addresses: 10.<k / 256 + 100>.<k % 256>.1 (client) and .2 (server). */
function nodeIps(k: number): { clientIp: string; serverIp: string } {
  const net = `10.${100 + Math.floor(k / 256)}.${k % 256}`;
  return { clientIp: `${net}.1`, serverIp: `${net}.2` };
}

export async function benchScale(o: ScaleBenchOptions, progress: (step: string) => void = () => {}): Promise<ScaleBenchResult> {
  const dir = await mkdtemp(join(tmpdir(), "tcptrail-scale-bench-"));
  const nats = await startEmbeddedNats({ stateDir: join(dir, "nats") });
  const store = new SqliteTraceStore({ path: join(dir, "tcptrail.db") });
  const nc = await connectNats(nats.url);
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm);
    const js = jetstream(nc);
    const nodes = Array.from({ length: o.nodes }, (_, k) => {
      let seq = 0;
      // Each node's kernel clock: 1 µs between events, its own offset (nodes' clocks never agree).
      let ns = 1_000_000_000n + BigInt(k) * 7_919_000n;
      return {
        name: `scale-node-${k}`,
        ips: nodeIps(k),
        seq: () => ++seq,
        ts: () => (ns += 1000n),
        publisher: new EventPublisher({ js, node: `scale-node-${k}`, bootId: `boot-${k}`, agentStartUs: Date.now() * 1000, maxQueuedEvents: 4_000_000, maxInFlight: 8 }),
      };
    });

    progress(`ingest: ${o.nodes} nodes × ${o.connectionsPerNode.toLocaleString("en-US")} connections`);
    let events = 0;
    const ids: string[] = [];
    const t0 = performance.now();
    // Round-robin in slices of 100 connections, letting acks come back between slices.
    for (let start = 0; start < o.connectionsPerNode; start += 100) {
      for (const n of nodes) {
        const batch = [];
        for (let i = start; i < Math.min(start + 100, o.connectionsPerNode); i++) {
          const c = plainConnection({ node: n.name, index: i, ...n.ips, seq: n.seq, ts: n.ts });
          for (const e of c.events) batch.push(e);
          ids.push(c.id);
        }
        events += batch.length;
        n.publisher.push(batch);
      }
      await new Promise((r) => setImmediate(r));
    }
    await Promise.all(nodes.map((n) => n.publisher.close()));
    const ingestMs = performance.now() - t0;
    const info = await jsm.streams.info(EVENTS_STREAM).catch(() => undefined);
    const streamBytes = info?.state.bytes ?? NaN;

    progress("consume: one consumer service, flat out");
    const connections = o.nodes * o.connectionsPerNode;
    const t1 = performance.now();
    const consumer = await startConsumerService({ nc, store, logger: silentLogger });
    let stored = 0;
    const deadline = Date.now() + CONSUME_TIMEOUT_MS;
    while (Date.now() < deadline) {
      stored = (await store.stats()).traces;
      if (stored >= connections) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const consumeMs = performance.now() - t1;
    await consumer.stop();
    let traces = 0;
    for (let i = 0; i < ids.length; i += 1000) traces += (await store.existingTraceIds(ids.slice(i, i + 1000))).size;
    stored = (await store.stats()).traces;
    return {
      nodes: o.nodes,
      connections,
      events,
      ingestEventsPerSec: (events / ingestMs) * 1000,
      consumeEventsPerSec: (events / consumeMs) * 1000,
      tracesPerSec: (traces / consumeMs) * 1000,
      traces,
      extraTraces: stored - traces,
      streamBytesPerEvent: streamBytes / events,
    };
  } finally {
    await nc.close().catch(() => undefined);
    await store.close();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
