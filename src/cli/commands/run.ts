// `tcptrail run`: the main job on one node. Without --nats it starts its own
// nats-server (JetStream, data under the state directory) on 127.0.0.1:4222,
// so `tcptrail observe` in another shell finds it with no flags. The runtime
// is imported in the action, so other commands never load it.
import { join } from "node:path";
import type { Command } from "commander";
import type { Logger } from "../../log/logger.js";
import type { MainJobOptions } from "../../runtime/mod.js";
import type { RetentionPolicy } from "../../store/mod.js";
import { natsFlag, proxyIdleTimeoutFlag, stateDirFlag, storeRetentionFlags } from "../flags.js";
import { portOption } from "../options.js";
import { addAgentOptions, agentSettings, eventsStreamLimits, type AgentCliOptions } from "./agent.js";

export interface RunCliOptions extends Omit<AgentCliOptions, "nats"> {
  nats?: string;
  stateDir: string;
  natsPort: number;
  apiPort: number;
  rules?: string;
  webhook?: string;
  /** The sidecars' idle timeouts in ms, from --proxy-idle-timeout. */
  proxyIdleTimeout?: number[];
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

/** The main job's options from `run`'s command line; unset flags leave each part's own defaults. */
export function mainJobOptions(opts: RunCliOptions, logger: Logger): MainJobOptions {
  return {
    logger,
    stateDir: opts.stateDir,
    ...(opts.nats ? { natsUrl: opts.nats } : { embeddedNats: { stateDir: join(opts.stateDir, "nats"), port: opts.natsPort } }),
    ...(opts.node ? { node: opts.node } : {}),
    agent: agentSettings(opts),
    metricsPort: opts.metrics ? opts.metricsPort : undefined,
    apiPort: opts.apiPort,
    streams: eventsStreamLimits(opts),
    retention: storeRetention(opts),
    ...(opts.rules ? { rulesFile: opts.rules } : {}),
    ...(opts.webhook ? { webhookUrl: opts.webhook } : {}),
    ...(opts.proxyIdleTimeout ? { consumer: { stitcher: { proxyIdleTimeoutMs: opts.proxyIdleTimeout } } } : {}),
  };
}

export function registerRun(program: Command): void {
  const run = addAgentOptions(
    program
      .command("run")
      .description("the main job: agent, embedded NATS (unless --nats), trace consumer, store, query API and alerts")
      .addOption(natsFlag({ description: "use this NATS server instead of starting one", noDefault: true }))
      .addOption(stateDirFlag("where the embedded NATS and the trace store keep data"))
      .option("--nats-port <port>", "port of the embedded nats-server on 127.0.0.1", portOption, 4222)
      .option("--api-port <port>", "query API port on 127.0.0.1", portOption, 7070)
      .option("--rules <file>", "alert rules YAML (default: built-in rules, see deploy/alert-rules.yaml)")
      .option("--webhook <url>", "also POST alerts to this URL")
      .addOption(proxyIdleTimeoutFlag()),
  );
  for (const o of storeRetentionFlags()) run.addOption(o);
  run.action(async (opts: RunCliOptions) => {
    const { createLogger } = await import("../../log/logger.js");
    const { onShutdown, startMainJob } = await import("../../runtime/mod.js");
    const log = createLogger({ name: "tcptrail" });
    const job = await startMainJob(mainJobOptions(opts, log));
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
