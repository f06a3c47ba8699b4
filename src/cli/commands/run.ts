// `tcptrail run`: the main job on one node. Without --nats it starts its own
// nats-server (JetStream, data under the state directory) on 127.0.0.1:4222,
// so `tcptrail observe` in another shell finds it with no flags. The runtime
// is imported in the action, so other commands never load it.
import { join } from "node:path";
import type { Command } from "commander";
import type { Logger } from "../../log/logger.js";
import type { MainJobOptions } from "../../runtime/mod.js";
import { natsFlag } from "../flags.js";
import { natsAuthFromFlags } from "../nats-auth.js";
import { portOption } from "../options.js";
import { addAgentOptions, agentSettings, type AgentCliOptions } from "./agent.js";
import { addConsumerSideOptions, consumerSideJobOptions, startJobFromCli, type ConsumerSideCliOptions } from "./consumer.js";

export { storeRetention } from "./consumer.js";

export interface RunCliOptions extends Omit<AgentCliOptions, "nats">, ConsumerSideCliOptions {
  nats?: string;
  natsPort: number;
  /** false with --no-agent: no agent in this process (a cluster runs its agents as a DaemonSet; `tcptrail consumer` is the same). */
  agent?: boolean;
}

/**
 * The main job's options from `run`'s command line: the consumer side as
 * `tcptrail consumer` builds it, plus the embedded NATS (without --nats) and
 * the agent (without --no-agent). Unset flags leave each part's own defaults.
 */
export function mainJobOptions(opts: RunCliOptions, logger: Logger, apiToken?: string): MainJobOptions {
  return {
    ...consumerSideJobOptions(opts, logger, apiToken),
    ...(opts.nats ? {} : { embeddedNats: { stateDir: join(opts.stateDir, "nats"), port: opts.natsPort } }),
    ...(opts.node ? { node: opts.node } : {}),
    agent: agentSettings(opts),
    ...(opts.agent === false ? { agentEnabled: false } : {}),
  };
}

export function registerRun(program: Command): void {
  const run = addAgentOptions(
    addConsumerSideOptions(
      program
        .command("run")
        .description("the main job: agent, embedded NATS (unless --nats), trace consumer, store, query API and alerts")
        .addOption(natsFlag({ description: "use this NATS server (a cluster: comma-separated URLs) instead of starting one", noDefault: true }))
        .option("--nats-port <port>", "port of the embedded nats-server on 127.0.0.1", portOption, 4222),
    )
      // A cluster runs one agent per node (a DaemonSet) and the consumer side
      // once, beside the NATS cluster: this is that consumer side, the same
      // as `tcptrail consumer`. Without the agent it needs neither root nor bpftrace.
      .option("--no-agent", "run without the node agent: consumer, store, query API and alerts only (= `tcptrail consumer`)"),
  );
  run.action(async (opts: RunCliOptions) => {
    await startJobFromCli("tcptrail", opts, (log, apiToken) => {
      if (!opts.nats && natsAuthFromFlags(opts)) {
        log.warn("the --nats-* credentials apply to the server of --nats: the embedded nats-server makes a user per role itself, so they are not used");
      }
      return mainJobOptions(opts, log, apiToken);
    });
  });
}
