// Encode + publish throughput of EventPublisher against a real nats-server
// (JetStream, file storage) started in a temp dir for the run.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConnEventInit } from "../src/model/mod.js";
import {
  EventPublisher,
  connectNats,
  ensureStreams,
  jetstream,
  jetstreamManager,
  startEmbeddedNats,
} from "../src/transport/mod.js";

export interface PublishBenchOptions {
  /** Events per push() call, like bpftrace output arriving in bursts. Default 256. */
  pushChunk?: number;
  /** Default: EventPublisher's (1000). */
  maxBatchEvents?: number;
  /** Default: EventPublisher's (4). */
  maxInFlight?: number;
  /** Default: os.tmpdir(). */
  tmpRoot?: string;
}

export interface PublishBenchResult {
  eventsPerSec: number;
  batches: number;
}

/** Push `events` (ordered, seq set) through an EventPublisher and time it until the last ack. */
export async function benchPublish(events: ConnEventInit[], opts: PublishBenchOptions = {}): Promise<PublishBenchResult> {
  const stateDir = await mkdtemp(join(opts.tmpRoot ?? tmpdir(), "tcptrail-bench-"));
  const server = await startEmbeddedNats({ stateDir });
  try {
    const nc = await connectNats(server.url, { name: "tcptrail-bench" });
    try {
      // Enough room that the stream limits never discard during the run.
      await ensureStreams(await jetstreamManager(nc), { events: { maxBytes: -1 } });
      const pub = new EventPublisher({
        js: jetstream(nc),
        node: "bench",
        bootId: "bench",
        agentStartUs: Date.now() * 1000,
        // Never drop: the bench measures throughput, not shedding.
        maxQueuedEvents: Math.max(events.length, 1),
        ...(opts.maxBatchEvents ? { maxBatchEvents: opts.maxBatchEvents } : {}),
        ...(opts.maxInFlight ? { maxInFlight: opts.maxInFlight } : {}),
      });
      const chunk = opts.pushChunk ?? 256;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < events.length; i += chunk) pub.push(events.slice(i, i + chunk));
      await pub.flush();
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const stats = await pub.close();
      if (stats.published !== events.length) {
        throw new Error(`bench published ${stats.published} of ${events.length} events (dropped ${stats.dropped})`);
      }
      return { eventsPerSec: Math.round(events.length / seconds), batches: stats.batches };
    } finally {
      await nc.close();
    }
  } finally {
    await server.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}
