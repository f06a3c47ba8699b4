// `tcptrail consumer`: the consumer side alone (trace consumer, store, query
// API, alerts, OTLP export) against an external NATS, for a cluster whose
// agents run on every node (`tcptrail agent`). The same code path as `run
// --no-agent`: the flags of the consumer side are added here for both
// commands, and both start the main job through startJobFromCli. The runtime
// is imported in the action, so other commands never load it.
import type { Command } from "commander";
import { Option } from "commander";
import type { Logger } from "../../log/logger.js";
import type { MainJobOptions } from "../../runtime/mod.js";
import type { RetentionPolicy } from "../../store/mod.js";
import type { StreamLimitsOverrides } from "../../transport/mod.js";
import {
  apiAllowedHostFlag,
  apiTokenFileFlag,
  listenFlag,
  metricsFlags,
  natsAuthFlags,
  natsFlag,
  otlpEndpointFlag,
  proxyIdleTimeoutFlag,
  resultStreamFlags,
  stateDirFlag,
  storeFlag,
  storeRetentionFlags,
  streamFlags,
  type ListenAddress,
} from "../flags.js";
import { natsAuthFromFlags, type NatsAuthFlagValues } from "../nats-auth.js";
import { portOption } from "../options.js";
import { eventsStreamLimits } from "./agent.js";

/** The consumer side's flags, as `consumer` and `run` parse them. */
export interface ConsumerSideCliOptions extends NatsAuthFlagValues {
  /** External NATS (`consumer`: default DEFAULT_NATS_URL; `run`: none starts an embedded one). Comma-separated for a cluster. */
  nats?: string;
  stateDir: string;
  /** --store: the trace store's URL; unset: SQLite under stateDir. */
  store?: string;
  /** Where the query API listens (--listen). */
  listen: ListenAddress;
  /** --api-port, the older spelling of `--listen 127.0.0.1:<port>`; commander refuses it together with --listen. */
  apiPort?: number;
  /** --api-token-file; without it $TCPTRAIL_API_TOKEN. */
  apiTokenFile?: string;
  /** --api-allowed-host, repeatable. */
  apiAllowedHost?: string[];
  rules?: string;
  webhook?: string;
  /** The sidecars' idle timeouts in ms, from --proxy-idle-timeout. */
  proxyIdleTimeout?: number[];
  /** --otlp-endpoint or $OTEL_EXPORTER_OTLP_ENDPOINT: export finished traces as OTLP spans there. */
  otlpEndpoint?: string;
  /** The trace store's retention per kind, ms and bytes, from --traces-max-age, --traces-max-size, --events-max-age, --events-max-size. */
  tracesMaxAge: number;
  tracesMaxSize: number;
  eventsMaxAge: number;
  eventsMaxSize: number;
  /** The events stream's horizon in ms and the expected rate, from --events-horizon and --events-rate. */
  eventsHorizon: number;
  eventsRate: number;
  /** Replicas of the streams, from --stream-replicas. */
  streamReplicas?: number;
  /** The traces and alerts streams' limits, ms and bytes, from --traces-stream-max-age/-size and --alerts-stream-max-age/-size. */
  tracesStreamMaxAge: number;
  tracesStreamMaxSize: number;
  alertsStreamMaxAge: number;
  alertsStreamMaxSize: number;
  metricsPort: number;
  metrics: boolean;
}

/** The trace store's retention from the command line: traces and the raw-event ring, each by age and size. */
export function storeRetention(opts: Pick<ConsumerSideCliOptions, "tracesMaxAge" | "tracesMaxSize" | "eventsMaxAge" | "eventsMaxSize">): RetentionPolicy {
  return { maxAgeMs: opts.tracesMaxAge, maxBytes: opts.tracesMaxSize, eventsMaxAgeMs: opts.eventsMaxAge, eventsMaxBytes: opts.eventsMaxSize };
}

/**
 * Every stream's limits from the command line: the events stream's (horizon,
 * rate, replicas: eventsStreamLimits) and the traces and alerts streams',
 * which only the consumer side creates. Plain data for the consumer worker.
 */
export function consumerStreamLimits(
  opts: Pick<ConsumerSideCliOptions, "eventsHorizon" | "eventsRate" | "streamReplicas" | "tracesStreamMaxAge" | "tracesStreamMaxSize" | "alertsStreamMaxAge" | "alertsStreamMaxSize">,
): StreamLimitsOverrides {
  return {
    ...eventsStreamLimits(opts),
    traces: { maxAgeMs: opts.tracesStreamMaxAge, maxBytes: opts.tracesStreamMaxSize },
    alerts: { maxAgeMs: opts.alertsStreamMaxAge, maxBytes: opts.alertsStreamMaxSize },
  };
}

/**
 * Add the consumer side's flags (state dir, API, alerts, export, store
 * retention, NATS credentials) to `cmd`. The stream and metrics flags are
 * not among them: `run` has them from the agent's options.
 */
export function addConsumerSideOptions(cmd: Command): Command {
  cmd
    .addOption(stateDirFlag("where the trace store keeps data (and `run`'s embedded NATS)"))
    .addOption(storeFlag())
    .addOption(listenFlag())
    .addOption(apiTokenFileFlag())
    .addOption(apiAllowedHostFlag())
    // Kept so existing scripts keep working; --listen says the same and more.
    .addOption(new Option("--api-port <port>", "query API port on 127.0.0.1 (= --listen 127.0.0.1:<port>)").argParser(portOption).conflicts("listen").hideHelp())
    .option("--rules <file>", "alert rules YAML (default: built-in rules, see deploy/alert-rules.yaml)")
    .option("--webhook <url>", "also POST alerts to this URL")
    .addOption(proxyIdleTimeoutFlag())
    .addOption(otlpEndpointFlag());
  for (const o of [...storeRetentionFlags(), ...resultStreamFlags(), ...natsAuthFlags()]) cmd.addOption(o);
  return cmd;
}

/**
 * The main job's options for the consumer side from the command line;
 * unset flags leave each part's own defaults. With --nats the credentials
 * are for that server; without it (`run` only) the embedded one is started.
 * `apiToken` is what readApiToken made of --api-token-file or
 * TCPTRAIL_API_TOKEN: read by the action, so --help loads nothing of the query layer.
 */
export function consumerSideJobOptions(opts: ConsumerSideCliOptions, logger: Logger, apiToken?: string): MainJobOptions {
  const natsAuth = opts.nats ? natsAuthFromFlags(opts) : undefined;
  return {
    logger,
    stateDir: opts.stateDir,
    ...(opts.store ? { store: opts.store } : {}),
    ...(opts.nats ? { natsUrl: opts.nats } : {}),
    ...(natsAuth ? { natsAuth } : {}),
    metricsPort: opts.metrics ? opts.metricsPort : undefined,
    ...apiListen(opts),
    ...(apiToken !== undefined ? { apiToken } : {}),
    ...(opts.apiAllowedHost ? { apiAllowedHosts: opts.apiAllowedHost } : {}),
    streams: consumerStreamLimits(opts),
    retention: storeRetention(opts),
    ...(opts.rules ? { rulesFile: opts.rules } : {}),
    ...(opts.webhook ? { webhookUrl: opts.webhook } : {}),
    ...(opts.proxyIdleTimeout ? { consumer: { stitcher: { proxyIdleTimeoutMs: opts.proxyIdleTimeout } } } : {}),
    ...(opts.otlpEndpoint ? { otlp: { endpoint: opts.otlpEndpoint } } : {}),
  };
}

function apiListen(opts: Pick<ConsumerSideCliOptions, "listen" | "apiPort">): { apiHost: string; apiPort: number } {
  if (opts.apiPort !== undefined) return { apiHost: "127.0.0.1", apiPort: opts.apiPort };
  return { apiHost: opts.listen.host, apiPort: opts.listen.port };
}

/** `consumer`'s options: the consumer side against --nats, never an agent. */
export function consumerJobOptions(opts: ConsumerSideCliOptions, logger: Logger, apiToken?: string): MainJobOptions {
  return { ...consumerSideJobOptions(opts, logger, apiToken), agentEnabled: false };
}

/**
 * The action of `run` and `consumer`: read the API token (a bad file is a
 * usage error with nothing started), start the main job, and run until a
 * signal, or until a part dies (the consumer worker): then the rest is
 * stopped and the command fails, so a supervisor restarts it.
 */
export async function startJobFromCli(
  name: string,
  opts: ConsumerSideCliOptions,
  jobOptions: (logger: Logger, apiToken: string | undefined) => MainJobOptions,
): Promise<void> {
  const { createLogger } = await import("../../log/logger.js");
  const { onShutdown, startMainJob } = await import("../../runtime/mod.js");
  const { readApiToken } = await import("../api-token.js");
  const apiToken = readApiToken(opts);
  const log = createLogger({ name });
  const job = await startMainJob(jobOptions(log, apiToken));
  log.info(job.endpoints, "tcptrail running: in another shell try `tcptrail observe -f`, `tcptrail traces`, `tcptrail alerts -f`");
  const died = await Promise.race([onShutdown(log, () => job.stop()).then(() => undefined), job.failed]);
  if (died) {
    log.error({ err: died }, `${name} failed: stopping`);
    await job.stop();
    throw died;
  }
}

export function registerConsumer(program: Command): void {
  const consumer = addConsumerSideOptions(
    program
      .command("consumer")
      .description(
        "the consumer side only: trace consumer, store, query API and alerts against an external NATS (the agents run on the nodes: `tcptrail agent`); = `run --no-agent --nats URL`",
      )
      .addOption(natsFlag({ description: "NATS server URL; a cluster as a comma-separated list (nats://a:4222,nats://b:4222)" })),
  );
  for (const o of [...metricsFlags(), ...streamFlags()]) consumer.addOption(o);
  consumer.action(async (opts: ConsumerSideCliOptions) => {
    await startJobFromCli("tcptrail-consumer", opts, (log, apiToken) => consumerJobOptions(opts, log, apiToken));
  });
}
