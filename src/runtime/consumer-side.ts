// The consumer side of the main job: the trace store, the live hub, the trace
// consumer with its alerting, the store's retention schedule and the query
// API. One composition, run either on the main thread or inside the consumer
// worker (consumer-worker.ts), so both modes start and stop the same parts in
// the same order.
import { join } from "node:path";
import type { ConsumerServiceOptions } from "../consumer/mod.js";
import type { OtlpExportSettings } from "../export/otlp/mod.js";
import { StoreHealth, startConsumerService } from "../consumer/mod.js";
import type { Logger } from "../log/logger.js";
import type { TcptrailMetrics } from "../metrics/mod.js";
import { createLiveHub, startQueryServer } from "../query/server/mod.js";
import { StoreMetrics, openTraceStore, parseStoreUrl, scheduleRetention, type RetentionPolicy, type StoreLocation } from "../store/mod.js";
import type { NatsAuthOptions, StreamLimitsOverrides } from "../transport/mod.js";

/** Consumer settings the main job passes through (everything but what the side builds itself). */
export type ConsumerSideConsumerOptions = Omit<
  ConsumerServiceOptions,
  "nc" | "natsUrl" | "natsAuth" | "store" | "hub" | "logger" | "metrics" | "rulesFile" | "webhookUrl" | "storeHealth"
>;

/** Plain data only: in worker mode these cross to the worker by structured clone. */
export interface ConsumerSideSettings {
  natsUrl: string;
  /** The consumer's NATS credentials (secrets: they cross to the worker in workerData, never logged). Default: none. */
  natsAuth?: NatsAuthOptions;
  stateDir: string;
  /** The trace store's URL (src/store/store-url.ts). Default: the SQLite file <stateDir>/tcptrail.db. */
  store?: string;
  apiHost: string;
  apiPort: number;
  /** The API's bearer token (a secret: it crosses to the worker in workerData, never logged). */
  apiToken?: string;
  apiAllowedHosts?: string[];
  rulesFile?: string;
  webhookUrl?: string;
  retention?: RetentionPolicy;
  consumer?: ConsumerSideConsumerOptions;
  streams?: StreamLimitsOverrides;
  /** Export every finished trace as OTLP spans. Default: no export. */
  otlp?: OtlpExportSettings;
}

export interface ConsumerSide {
  endpoints: { store: string; api: string };
  /** Stops the API, retention, consumer and store, in that order; logs (never throws) a part's failure. */
  stop(): Promise<void>;
}

export async function startConsumerSide(s: ConsumerSideSettings, logger: Logger, metrics: Pick<TcptrailMetrics, "registry">): Promise<ConsumerSide> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const part of stops.reverse()) await part().catch((err: unknown) => logger.error({ err }, "stop failed"));
  };
  try {
    const location: StoreLocation = s.store ? parseStoreUrl(s.store) : { kind: "sqlite", path: join(s.stateDir, "tcptrail.db") };
    const { store, where } = await openTraceStore(location, logger);
    stops.push(() => store.close());
    const hub = createLiveHub({ log: logger });
    if (s.otlp) {
      // Loaded only when asked for: the OpenTelemetry SDK is not small.
      const { startOtlpExport } = await import("../export/otlp/mod.js");
      const otlp = startOtlpExport({ ...s.otlp, logger, metrics });
      // The hub hears every trace once it is stored and new (never a restart's
      // duplicate), synchronously: the exporter queues it and returns. Stopped
      // after the consumer (stops run in reverse), so its last traces go too.
      const unsubscribe = hub.subscribeTraces((t) => otlp.push(t));
      stops.push(async () => {
        unsubscribe();
        await otlp.close();
      });
    }
    // One view of whether the store writes: the consumer reports into it, /healthz reads it.
    const storeHealth = new StoreHealth({ logger, metrics });
    const consumer = await startConsumerService({
      ...s.consumer,
      ...(s.streams ? { streams: s.streams } : {}),
      natsUrl: s.natsUrl,
      ...(s.natsAuth ? { natsAuth: s.natsAuth } : {}),
      store,
      hub,
      storeHealth,
      logger,
      metrics,
      ...(s.rulesFile ? { rulesFile: s.rulesFile } : {}),
      ...(s.webhookUrl ? { webhookUrl: s.webhookUrl } : {}),
    });
    stops.push(() => consumer.stop());
    // The store's gauges live in this side's registry: in worker mode the main
    // /metrics appends it per scrape, so they show next to the consumer's.
    const storeMetrics = new StoreMetrics(metrics);
    const retention = scheduleRetention(store, { ...s.retention, log: logger, onStats: (stats) => storeMetrics.report(stats) });
    stops.push(() => retention.stop());
    const api = await startQueryServer({
      store,
      storeHealth: () => storeHealth.state(),
      hub,
      host: s.apiHost,
      port: s.apiPort,
      ...(s.apiToken !== undefined ? { token: s.apiToken } : {}),
      ...(s.apiAllowedHosts ? { allowedHosts: s.apiAllowedHosts } : {}),
      log: logger,
    });
    stops.push(() => api.close());
    return { endpoints: { store: where, api: api.url }, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
