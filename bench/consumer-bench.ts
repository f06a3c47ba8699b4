// Close-to-queryable latency of the whole consumer path: from the moment an
// agent hands over a connection's last event (EventPublisher.push) to the
// moment its trace can be read from the store, through a real nats-server,
// JetStream, the durable consumer, the stitcher and SQLite. Connections are
// plain client/server pairs on loopback-like addresses, opened at a steady
// rate with live timestamps, so the stitcher's windows run in real time.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { silentLogger } from "../src/log/logger.js";
import { Outcome } from "../src/model/mod.js";
import { startConsumerService } from "../src/consumer/mod.js";
import { SqliteTraceStore } from "../src/store/mod.js";
import { EventPublisher, connectNats, jetstream, startEmbeddedNats } from "../src/transport/mod.js";
import { plainConnection } from "./plain-connection.js";

export interface ConsumerBenchOptions {
  /** Connections measured. Default 300. */
  connections?: number;
  /** One connection starts every this many ms. Default 10 (100 connections/s). */
  intervalMs?: number;
  /** How often the reader polls the store for pending traces, ms. Default 2. */
  pollMs?: number;
}

export interface ConsumerBenchResult {
  connections: number;
  /** Connections whose trace never showed up within 10 s, or not as one COMPLETED hop. */
  missing: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

const NODE = "bench";

const pct = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

export async function benchCloseToQueryable(o: ConsumerBenchOptions = {}): Promise<ConsumerBenchResult> {
  const connections = o.connections ?? 300;
  const intervalMs = o.intervalMs ?? 10;
  const pollMs = o.pollMs ?? 2;
  const dir = await mkdtemp(join(tmpdir(), "tcptrail-consumer-bench-"));
  const nats = await startEmbeddedNats({ stateDir: join(dir, "nats") });
  const store = new SqliteTraceStore({ path: join(dir, "tcptrail.db") });
  // The reader is a second connection, as the query API's would be in another process.
  const reader = new SqliteTraceStore({ path: join(dir, "tcptrail.db") });
  const nc = await connectNats(nats.url);
  try {
    const consumer = await startConsumerService({ nc, store, logger: silentLogger });
    const publisher = new EventPublisher({ js: jetstream(nc), node: NODE, bootId: "bench", agentStartUs: Date.now() * 1000 });
    let seq = 0;
    const t0 = process.hrtime.bigint();
    let lastTs = 0n;
    const ts = (): bigint => {
      const now = process.hrtime.bigint() - t0 + 1_000_000_000n;
      lastTs = now > lastTs + 1000n ? now : lastTs + 1000n;
      return lastTs;
    };
    const pending = new Map<string, number>();
    const latencies: number[] = [];
    let missing = 0;
    const poll = setInterval(() => {
      void (async () => {
        if (pending.size === 0) return;
        const found = await reader.existingTraceIds([...pending.keys()]);
        const now = performance.now();
        for (const id of found) {
          const trace = await reader.getTrace(id);
          if (trace?.outcome !== Outcome.OUTCOME_COMPLETED || trace.hops.length !== 1) missing++;
          else latencies.push(now - pending.get(id)!);
          pending.delete(id);
        }
      })();
    }, pollMs);
    for (let i = 0; i < connections; i++) {
      const { events, id } = plainConnection({ node: NODE, index: i, seq: () => ++seq, ts });
      publisher.push(events);
      pending.set(id, performance.now());
      await new Promise((r) => setTimeout(r, intervalMs));
    }
    const deadline = Date.now() + 10_000;
    while (pending.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    clearInterval(poll);
    missing += pending.size;
    await publisher.close();
    await consumer.stop();
    latencies.sort((a, b) => a - b);
    return { connections, missing, p50Ms: pct(latencies, 0.5), p99Ms: pct(latencies, 0.99), maxMs: latencies[latencies.length - 1] ?? NaN };
  } finally {
    await nc.close().catch(() => undefined);
    await reader.close();
    await store.close();
    await nats.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await benchCloseToQueryable();
  console.log(
    `close → queryable  p50 ${r.p50Ms.toFixed(0)} ms, p99 ${r.p99Ms.toFixed(0)} ms, max ${r.maxMs.toFixed(0)} ms over ${r.connections} connections (${r.missing} missing; target p99 ≤ 1000 ms)`,
  );
}
