// Composes the main job of one node: an embedded nats-server (unless one is
// given), the consumer side (trace store, trace consumer with its alerting,
// retention and query API: consumer-side.ts), the node agent, and the
// metrics endpoint. Each part is stopped in reverse order, also when a later
// part fails to start, so the agent's last events reach NATS and the
// consumer's last traces reach the store.
//
// The consumer side runs in a worker thread by default: on the main thread
// its stitching, SQLite writes and retention deletes starved the loop that
// reads bpftrace (the kernel then drops events), delayed /metrics by seconds
// and kept SIGINT waiting. The main thread now only supervises.
import { hostname } from "node:os";
import { Gauge } from "prom-client";
import type { OtlpExportSettings } from "../export/otlp/mod.js";
import type { Logger } from "../log/logger.js";
import { createMetrics, startMetricsServer } from "../metrics/mod.js";
import { DEFAULT_API_HOST, DEFAULT_API_PORT, checkListen } from "../query/server/mod.js";
import type { RetentionPolicy } from "../store/mod.js";
import {
  startEmbeddedNats,
  type EmbeddedNatsOptions,
  type NatsAuthOptions,
  type NatsRole,
  type StreamLimitsOverrides,
} from "../transport/mod.js";
import { startAgentService, type AgentServiceSettings } from "./agent-service.js";
import { startConsumerSide, type ConsumerSideConsumerOptions, type ConsumerSideSettings } from "./consumer-side.js";
import { ConsumerThread } from "./consumer-thread.js";
import type { ConsumerWorkerError } from "./errors.js";

export type ConsumerThreadMode = "worker" | "in-thread";
/** Where the consumer side runs unless told: its own worker thread. */
export const DEFAULT_CONSUMER_THREAD: ConsumerThreadMode = "worker";

export interface MainJobOptions {
  logger: Logger;
  stateDir: string;
  /** Use this server; otherwise start an embedded one with embeddedNats. */
  natsUrl?: string;
  /** Credentials and TLS for natsUrl, used by the agent and the consumer alike. Default: none. */
  natsAuth?: NatsAuthOptions;
  /**
   * The embedded server. Its `auth` defaults to on here: a user per role with
   * fresh keys, the in-process agent and consumer connecting as theirs, the
   * reader's seed left for the CLI; anonymous clients are refused.
   */
  embeddedNats?: Partial<EmbeddedNatsOptions>;
  node?: string;
  /** The agent's settings, its pod resolver choice included. */
  agent?: AgentServiceSettings;
  /** Serve Prometheus metrics on 127.0.0.1:<port>; undefined: none. */
  metricsPort?: number | undefined;
  /** Query API port. Default DEFAULT_API_PORT (7070); 0 picks a free port. */
  apiPort?: number;
  /**
   * Query API address. Default DEFAULT_API_HOST (127.0.0.1). Anything but
   * loopback needs apiToken: the job refuses to start otherwise, before it
   * starts anything.
   */
  apiHost?: string;
  /** Bearer token the API requires on every route but /healthz. Default: none. */
  apiToken?: string;
  /** Host header names the API answers to besides loopback and apiHost (DNS-rebinding defence). Default: none. */
  apiAllowedHosts?: string[];
  /** Alert rules YAML. Default: the built-in rules. */
  rulesFile?: string;
  /** Also POST alerts here. Default: none. */
  webhookUrl?: string;
  /** Trace store retention per kind (traces; the raw-event ring). Default: the store's (traces 24 h, events 15 min, each with a size bound), applied every minute. */
  retention?: RetentionPolicy;
  /** Consumer settings beyond the ones above (stitcher windows, the sidecars' idle timeouts, durable name...). */
  consumer?: ConsumerSideConsumerOptions;
  /** Export every finished trace as OpenTelemetry spans over OTLP/HTTP. Default: no export. */
  otlp?: OtlpExportSettings;
  /** Start the node agent (needs root and bpftrace). Default true. */
  agentEnabled?: boolean;
  /** JetStream stream limits, the same for the agent and the consumer (both create or update the streams). Default: the transport's (events: a 1 h horizon at 5000 events/s). */
  streams?: StreamLimitsOverrides;
  /**
   * Run the consumer side in its own worker thread ("worker", the default)
   * or on this thread ("in-thread": options that are not plain data, such as
   * `consumer.rules` with functions, and debugging). In worker mode every
   * option above must survive structured cloning.
   */
  consumerThread?: ConsumerThreadMode;
  /** Worker mode: how long stop() waits for the worker's last traces before terminating it. Default DEFAULT_CONSUMER_STOP_TIMEOUT_MS (15 s). */
  consumerStopTimeoutMs?: number;
}

export interface MainJob {
  endpoints: Record<string, string>;
  stop(): Promise<void>;
  /**
   * Settles (resolves, never rejects) with the error when a part dies while
   * the job runs, today the consumer worker; never settles otherwise. The
   * job is then half-alive: stop it and fail.
   */
  failed: Promise<Error>;
  /** The consumer worker in worker mode (for tests and diagnostics). */
  consumerWorker?: ConsumerThread;
  /** The embedded server's credentials per role, when it requires them (secrets: for tests and in-process clients, never logged). */
  natsAuth?: Record<NatsRole, NatsAuthOptions>;
}

export async function startMainJob(o: MainJobOptions): Promise<MainJob> {
  const stops: Array<() => Promise<void>> = [];
  const endpoints: Record<string, string> = {};
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => o.logger.error({ err }, "stop failed"));
  };
  let fail!: (err: Error) => void;
  const failed = new Promise<Error>((resolve) => (fail = resolve));
  let consumerWorker: ConsumerThread | undefined;
  let extraText: (() => Promise<string>) | undefined;
  let natsRoles: Record<NatsRole, NatsAuthOptions> | undefined;
  const apiHost = o.apiHost ?? DEFAULT_API_HOST;
  // Here as well as in the server: a refused listen address must not start NATS and a worker first.
  checkListen(apiHost, o.apiToken !== undefined);
  try {
    let natsUrl = o.natsUrl;
    // Who the agent and the consumer are to NATS: what the caller gave for its server, or their roles' users on ours.
    let roleAuth: (role: NatsRole) => NatsAuthOptions | undefined = () => o.natsAuth;
    if (!natsUrl) {
      const nats = await startEmbeddedNats({
        stateDir: `${o.stateDir}/nats`,
        log: o.logger,
        // The agent's user may publish this node's events only (the agent's own default node, the hostname, when none is given).
        // Without an agent here the role is used by no one outside (its seed stays in memory): callers in this process may
        // publish as any node, as the tests that play the agent do.
        auth: {
          ...(o.agentEnabled !== false ? { node: o.node ?? hostname() } : {}),
          ...(o.consumer?.durableName !== undefined ? { durableName: o.consumer.durableName } : {}),
        },
        ...o.embeddedNats,
      });
      stops.push(() => nats.stop());
      natsUrl = nats.url;
      o.logger.info({ url: nats.url, natsPid: nats.pid, readerCredentials: nats.auth?.readerSeedFile }, "embedded nats-server started");
      const roles = nats.auth?.roles;
      if (roles) {
        roleAuth = (role) => roles[role];
        natsRoles = roles;
      }
    }
    endpoints.nats = natsUrl;
    const metrics = createMetrics();

    const consumerAuth = roleAuth("consumer");
    const settings: ConsumerSideSettings = {
      natsUrl,
      ...(consumerAuth ? { natsAuth: consumerAuth } : {}),
      stateDir: o.stateDir,
      apiHost,
      apiPort: o.apiPort ?? DEFAULT_API_PORT,
      ...(o.apiToken !== undefined ? { apiToken: o.apiToken } : {}),
      ...(o.apiAllowedHosts?.length ? { apiAllowedHosts: o.apiAllowedHosts } : {}),
      ...(o.rulesFile ? { rulesFile: o.rulesFile } : {}),
      ...(o.webhookUrl ? { webhookUrl: o.webhookUrl } : {}),
      ...(o.retention ? { retention: o.retention } : {}),
      ...(o.consumer ? { consumer: o.consumer } : {}),
      ...(o.streams ? { streams: o.streams } : {}),
      ...(o.otlp ? { otlp: o.otlp } : {}),
    };
    if ((o.consumerThread ?? DEFAULT_CONSUMER_THREAD) === "worker") {
      consumerWorker = await ConsumerThread.start({
        settings,
        logger: o.logger,
        onCrash: (err: ConsumerWorkerError) => fail(err),
        ...(o.consumerStopTimeoutMs !== undefined ? { stopTimeoutMs: o.consumerStopTimeoutMs } : {}),
      });
      const worker = consumerWorker;
      stops.push(() => worker.stop());
      Object.assign(endpoints, worker.endpoints);
      const stale = new Gauge({
        name: "tcptrail_consumer_metrics_stale",
        help: "1 when the consumer worker did not answer this scrape in time (its tcptrail_consumer_* metrics are missing), else 0.",
        registers: [metrics.registry],
      });
      extraText = async () => {
        const text = await worker.metricsText();
        stale.set(text === undefined ? 1 : 0);
        return text ?? "";
      };
    } else {
      const side = await startConsumerSide(settings, o.logger, metrics);
      stops.push(() => side.stop());
      Object.assign(endpoints, side.endpoints);
    }

    if (o.agentEnabled !== false) {
      const agentAuth = roleAuth("agent");
      const agent = await startAgentService({
        natsUrl,
        ...(agentAuth ? { natsAuth: agentAuth } : {}),
        stateDir: `${o.stateDir}/agent`,
        ...(o.node ? { node: o.node } : {}),
        logger: o.logger,
        metrics,
        ...(o.streams ? { streams: o.streams } : {}),
        // The API and /metrics are ours too: a CLI call must not become a trace.
        agent: {
          ...o.agent,
          exclude:
            o.agent?.exclude === false
              ? false
              : { pid: process.pid, ports: [settings.apiPort, ...(o.metricsPort !== undefined ? [o.metricsPort] : [])] },
        },
      });
      stops.push(() => agent.stop());
      endpoints.node = agent.node;
    }
    if (o.metricsPort !== undefined) {
      const server = await startMetricsServer(metrics.registry, { port: o.metricsPort, ...(extraText ? { extraText } : {}) });
      stops.push(() => server.close());
      endpoints.metrics = server.url;
    }
    return { endpoints, stop, failed, ...(consumerWorker ? { consumerWorker } : {}), ...(natsRoles ? { natsAuth: natsRoles } : {}) };
  } catch (err) {
    await stop();
    throw err;
  }
}
