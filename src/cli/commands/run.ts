// `tcptrail run`: the main job on one node. Without --nats it starts its own
// nats-server (JetStream, data under the state directory) on 127.0.0.1:4222,
// so `tcptrail observe` in another shell finds it with no flags. The runtime
// is imported in the action, so other commands never load it.
import { join } from "node:path";
import { Option, type Command } from "commander";
import type { Logger } from "../../log/logger.js";
import type { MainJobOptions } from "../../runtime/mod.js";
import type { RetentionPolicy } from "../../store/mod.js";
import {
  apiAllowedHostFlag,
  apiTokenFileFlag,
  listenFlag,
  natsAuthFlags,
  natsFlag,
  otlpEndpointFlag,
  proxyIdleTimeoutFlag,
  stateDirFlag,
  storeRetentionFlags,
  type ListenAddress,
} from "../flags.js";
import { natsAuthFromFlags } from "../nats-auth.js";
import { portOption } from "../options.js";
import { addAgentOptions, agentSettings, eventsStreamLimits, type AgentCliOptions } from "./agent.js";

export interface RunCliOptions extends Omit<AgentCliOptions, "nats"> {
  nats?: string;
  stateDir: string;
  natsPort: number;
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
  /** false with --no-agent: no agent in this process (a cluster runs its agents as a DaemonSet). */
  agent?: boolean;
  /** The trace store's retention per kind, ms and bytes, from --traces-max-age, --traces-max-size, --events-max-age, --events-max-size. */
  tracesMaxAge: number;
  tracesMaxSize: number;
  eventsMaxAge: number;
  eventsMaxSize: number;
}

/** The trace store's retention from the command line: traces and the raw-event ring, each by age and size. */
export function storeRetention(opts: Pick<RunCliOptions, "tracesMaxAge" | "tracesMaxSize" | "eventsMaxAge" | "eventsMaxSize">): RetentionPolicy {
  return { maxAgeMs: opts.tracesMaxAge, maxBytes: opts.tracesMaxSize, eventsMaxAgeMs: opts.eventsMaxAge, eventsMaxBytes: opts.eventsMaxSize };
}

/**
 * The main job's options from `run`'s command line; unset flags leave each
 * part's own defaults. `apiToken` is what readApiToken (../api-token.ts) made
 * of --api-token-file or TCPTRAIL_API_TOKEN: read by the action, so --help
 * loads nothing of the query layer.
 */
export function mainJobOptions(opts: RunCliOptions, logger: Logger, apiToken?: string): MainJobOptions {
  // Credentials are for the server of --nats; the embedded one makes a user per role itself.
  const natsAuth = opts.nats ? natsAuthFromFlags(opts) : undefined;
  return {
    logger,
    stateDir: opts.stateDir,
    ...(opts.nats ? { natsUrl: opts.nats } : { embeddedNats: { stateDir: join(opts.stateDir, "nats"), port: opts.natsPort } }),
    ...(natsAuth ? { natsAuth } : {}),
    ...(opts.node ? { node: opts.node } : {}),
    agent: agentSettings(opts),
    metricsPort: opts.metrics ? opts.metricsPort : undefined,
    ...apiListen(opts),
    ...(apiToken !== undefined ? { apiToken } : {}),
    ...(opts.apiAllowedHost ? { apiAllowedHosts: opts.apiAllowedHost } : {}),
    streams: eventsStreamLimits(opts),
    retention: storeRetention(opts),
    ...(opts.rules ? { rulesFile: opts.rules } : {}),
    ...(opts.webhook ? { webhookUrl: opts.webhook } : {}),
    ...(opts.proxyIdleTimeout ? { consumer: { stitcher: { proxyIdleTimeoutMs: opts.proxyIdleTimeout } } } : {}),
    ...(opts.otlpEndpoint ? { otlp: { endpoint: opts.otlpEndpoint } } : {}),
    ...(opts.agent === false ? { agentEnabled: false } : {}),
  };
}

function apiListen(opts: Pick<RunCliOptions, "listen" | "apiPort">): { apiHost: string; apiPort: number } {
  if (opts.apiPort !== undefined) return { apiHost: "127.0.0.1", apiPort: opts.apiPort };
  return { apiHost: opts.listen.host, apiPort: opts.listen.port };
}

export function registerRun(program: Command): void {
  const run = addAgentOptions(
    program
      .command("run")
      .description("the main job: agent, embedded NATS (unless --nats), trace consumer, store, query API and alerts")
      .addOption(natsFlag({ description: "use this NATS server instead of starting one", noDefault: true }))
      .addOption(stateDirFlag("where the embedded NATS and the trace store keep data"))
      .option("--nats-port <port>", "port of the embedded nats-server on 127.0.0.1", portOption, 4222)
      .addOption(listenFlag())
      .addOption(apiTokenFileFlag())
      .addOption(apiAllowedHostFlag())
      // Kept so existing scripts keep working; --listen says the same and more.
      .addOption(new Option("--api-port <port>", "query API port on 127.0.0.1 (= --listen 127.0.0.1:<port>)").argParser(portOption).conflicts("listen").hideHelp())
      .option("--rules <file>", "alert rules YAML (default: built-in rules, see deploy/alert-rules.yaml)")
      .option("--webhook <url>", "also POST alerts to this URL")
      .addOption(proxyIdleTimeoutFlag())
      .addOption(otlpEndpointFlag())
      // A cluster runs one agent per node (a DaemonSet) and the consumer side
      // once, beside the NATS cluster: this is that consumer side. Without
      // the agent it needs neither root nor bpftrace.
      .option("--no-agent", "run without the node agent: consumer, store, query API and alerts only (the agents run elsewhere, e.g. as a DaemonSet)"),
  );
  for (const o of [...storeRetentionFlags(), ...natsAuthFlags()]) run.addOption(o);
  run.action(async (opts: RunCliOptions) => {
    const { createLogger } = await import("../../log/logger.js");
    const { onShutdown, startMainJob } = await import("../../runtime/mod.js");
    const { readApiToken } = await import("../api-token.js");
    // Before the logger: a bad token file is a usage error, with nothing started.
    const apiToken = readApiToken(opts);
    const log = createLogger({ name: "tcptrail" });
    if (!opts.nats && natsAuthFromFlags(opts)) {
      log.warn("the --nats-* credentials apply to the server of --nats: the embedded nats-server makes a user per role itself, so they are not used");
    }
    const job = await startMainJob(mainJobOptions(opts, log, apiToken));
    log.info(job.endpoints, "tcptrail running: in another shell try `tcptrail observe -f`, `tcptrail traces`, `tcptrail alerts -f`");
    // A part that dies while running (the consumer worker) must not leave
    // `run` half-alive: stop the rest and fail, so a supervisor restarts it.
    const died = await Promise.race([onShutdown(log, () => job.stop()).then(() => undefined), job.failed]);
    if (died) {
      log.error({ err: died }, "tcptrail run failed: stopping");
      await job.stop();
      throw died;
    }
  });
}
