// Composes the main job of one node: an embedded nats-server (unless one is
// given), the trace store, the trace consumer with its alerting, the query
// API, the node agent, and the metrics endpoint. Each part is stopped in
// reverse order, also when a later part fails to start, so the agent's last
// events reach NATS and the consumer's last traces reach the store.
import { join } from "node:path";
import type { AgentOptions } from "../agent/mod.js";
import type { Logger } from "../log/logger.js";
import { createMetrics, startMetricsServer } from "../metrics/mod.js";
import { createLiveHub, startQueryServer } from "../query/server/mod.js";
import { SqliteTraceStore, scheduleRetention, type RetentionPolicy } from "../store/mod.js";
import { startEmbeddedNats, type EmbeddedNatsOptions, type StreamLimitsOverrides } from "../transport/mod.js";
import { startAgentService } from "./agent-service.js";
import { startConsumerService, type ConsumerServiceOptions } from "../consumer/mod.js";

export interface MainJobOptions {
  logger: Logger;
  stateDir: string;
  /** Use this server; otherwise start an embedded one with embeddedNats. */
  natsUrl?: string;
  embeddedNats?: EmbeddedNatsOptions;
  node?: string;
  agent?: Omit<AgentOptions, "sink" | "node" | "logger" | "metrics">;
  /** Serve Prometheus metrics on 127.0.0.1:<port>; undefined: none. */
  metricsPort?: number | undefined;
  /** Query API on 127.0.0.1:<port>. Default 7070; 0 picks a free port. */
  apiPort?: number;
  /** Alert rules YAML. Default: the built-in rules. */
  rulesFile?: string;
  /** Also POST alerts here. Default: none. */
  webhookUrl?: string;
  /** Trace store retention. Default: the store's (24 h, 512 MiB), checked every minute. */
  retention?: RetentionPolicy;
  /** Consumer settings beyond the ones above (stitcher windows, the sidecars' idle timeouts, durable name...). */
  consumer?: Omit<ConsumerServiceOptions, "nc" | "natsUrl" | "store" | "hub" | "logger" | "metrics" | "rulesFile" | "webhookUrl">;
  /** Start the node agent (needs root and bpftrace). Default true. */
  agentEnabled?: boolean;
  /** JetStream stream limits, the same for the agent and the consumer (both create or update the streams). Default: the transport's (events 24 h / 1 GiB). */
  streams?: StreamLimitsOverrides;
}

export interface MainJob {
  endpoints: Record<string, string>;
  stop(): Promise<void>;
}

export async function startMainJob(o: MainJobOptions): Promise<MainJob> {
  const stops: Array<() => Promise<void>> = [];
  const endpoints: Record<string, string> = {};
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => o.logger.error({ err }, "stop failed"));
  };
  try {
    let natsUrl = o.natsUrl;
    if (!natsUrl) {
      const nats = await startEmbeddedNats(o.embeddedNats ?? { stateDir: `${o.stateDir}/nats` });
      stops.push(() => nats.stop());
      natsUrl = nats.url;
      o.logger.info({ url: nats.url, natsPid: nats.pid }, "embedded nats-server started");
    }
    endpoints.nats = natsUrl;
    const metrics = createMetrics();

    const store = new SqliteTraceStore({ path: join(o.stateDir, "tcptrail.db"), log: o.logger });
    stops.push(() => store.close());
    endpoints.store = store.path;
    const hub = createLiveHub({ log: o.logger });
    const consumer = await startConsumerService({
      ...o.consumer,
      ...(o.streams ? { streams: o.streams } : {}),
      natsUrl,
      store,
      hub,
      logger: o.logger,
      metrics,
      ...(o.rulesFile ? { rulesFile: o.rulesFile } : {}),
      ...(o.webhookUrl ? { webhookUrl: o.webhookUrl } : {}),
    });
    stops.push(() => consumer.stop());
    const retention = scheduleRetention(store, { ...o.retention, log: o.logger });
    stops.push(() => retention.stop());
    const api = await startQueryServer({ store, hub, host: "127.0.0.1", port: o.apiPort ?? 7070, log: o.logger });
    stops.push(() => api.close());
    endpoints.api = api.url;

    if (o.agentEnabled !== false) {
      const agent = await startAgentService({
        natsUrl,
        ...(o.node ? { node: o.node } : {}),
        logger: o.logger,
        metrics,
        ...(o.streams ? { streams: o.streams } : {}),
        ...(o.agent ? { agent: o.agent } : {}),
      });
      stops.push(() => agent.stop());
      endpoints.node = agent.node;
    }
    if (o.metricsPort !== undefined) {
      const server = await startMetricsServer(metrics.registry, { port: o.metricsPort });
      stops.push(() => server.close());
      endpoints.metrics = server.url;
    }
    return { endpoints, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
