// Composes the main job of one node: an embedded nats-server (unless one is
// given), the node agent, and the metrics endpoint. Each part is stopped in
// reverse order, also when a later part fails to start.
import type { AgentOptions } from "../agent/mod.js";
import type { Logger } from "../log/logger.js";
import { createMetrics, startMetricsServer } from "../metrics/mod.js";
import { startEmbeddedNats, type EmbeddedNatsOptions } from "../transport/mod.js";
import { startAgentService } from "./agent-service.js";

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
  apiPort?: number;
  rulesFile?: string;
  webhookUrl?: string;
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
      o.logger.info({ url: nats.url, pid: nats.pid }, "embedded nats-server started");
    }
    endpoints.nats = natsUrl;
    const metrics = createMetrics();
    const agent = await startAgentService({
      natsUrl,
      ...(o.node ? { node: o.node } : {}),
      logger: o.logger,
      metrics,
      ...(o.agent ? { agent: o.agent } : {}),
    });
    stops.push(() => agent.stop());
    endpoints.node = agent.node;
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
