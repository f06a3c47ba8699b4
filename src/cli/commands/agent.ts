// `tcptrail agent`: only the node agent, publishing to an existing NATS. The
// agent, metrics and runtime are imported in the action, so other commands
// never load them.
import { Option, type Command } from "commander";
import type { AgentServiceOptions } from "../../runtime/mod.js";
import type { StreamLimitsOverrides } from "../../transport/mod.js";
import { metricsFlags, natsAuthFlags, natsFlag, podsFlag, streamFlags } from "../flags.js";
import { natsAuthFromFlags, type NatsAuthFlagValues } from "../nats-auth.js";
import { BadFlagValueError } from "../exit.js";
import { intOption } from "../options.js";

export interface AgentCliOptions extends NatsAuthFlagValues {
  nats: string;
  /** The events stream's horizon in ms, from --events-horizon. */
  eventsHorizon: number;
  /** The node's expected sustained events/s, from --events-rate. */
  eventsRate: number;
  /** Replicas of the streams, from --stream-replicas. */
  streamReplicas?: number;
  /** Only sockets of these pods (globs), from --pods. */
  pods?: string[];
  node?: string;
  bpftrace?: string;
  perfRbPages?: number;
  reorderWindowMs: number;
  sidecarUid: number;
  metricsPort: number;
  metrics: boolean;
  traceSelf?: boolean;
  podResolver: "auto" | "netns" | "cri";
  criSocket?: string;
  /** Container names whose processes are the sidecar, from --sidecar-containers. */
  sidecarContainers: string[];
}

/** = the CRI resolver's DEFAULT_SIDECAR_CONTAINER_NAMES (held equal by test/agent/cri/cli-flags.test.ts; --help must not load gRPC). */
export const DEFAULT_SIDECAR_CONTAINERS_FLAG: readonly string[] = ["istio-proxy"];
/** A container name as Kubernetes allows it (an RFC 1123 label). */
const CONTAINER_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** `--sidecar-containers a,b`: "" (or "none") turns the container rule off. */
function sidecarContainerNames(value: string): string[] {
  const trimmed = value.trim();
  if (trimmed === "" || trimmed === "none") return [];
  const names = trimmed.split(",").map((n) => n.trim());
  const bad = names.find((n) => !CONTAINER_NAME.test(n));
  if (bad !== undefined) throw new BadFlagValueError(`--sidecar-containers must be container names separated by commas (lowercase letters, digits and -); got "${bad}" in "${value}"`);
  return names;
}

export function addAgentOptions(cmd: Command): Command {
  cmd
    .option("--node <name>", "node name used in subjects and traces (default: hostname)")
    .option("--bpftrace <path>", "bpftrace binary (default: $TCPTRAIL_BPFTRACE, else deploy/setup.sh's /opt/tcptrail/bpftrace, else PATH)")
    .option("--perf-rb-pages <n>", "bpftrace output buffer pages, a power of two (default: 16384 for bpftrace 0.21+, 2048 per CPU before)", intOption(8, 1 << 20))
    .option("--reorder-window-ms <ms>", "how long events wait to be ordered by kernel timestamp", intOption(1, 10_000), 100)
    .option("--sidecar-uid <uid>", "UID the mesh sidecar runs as", intOption(0, 2 ** 32 - 1), 1337)
    .option("--trace-self", "also trace tcptrail's own connections (its NATS, API and metrics traffic, CLI calls)")
    .addOption(
      // Literals here, not imported: --help must not load the resolver (and gRPC).
      new Option("--pod-resolver <how>", "how pods are named: cri asks the container runtime (namespace/pod), netns names the namespaces under /run/netns, auto uses CRI when a socket answers")
        .choices(["auto", "netns", "cri"])
        .default("auto"),
    )
    .option("--cri-socket <path>", "the container runtime's CRI socket (default: /run/containerd/containerd.sock, then /var/run/crio/crio.sock)")
    .addOption(
      new Option(
        "--sidecar-containers <names>",
        "with the CRI resolver, sockets of processes in containers of these names (comma-separated; none: off) are the mesh sidecar's even when they do not run as --sidecar-uid",
      )
        .argParser(sidecarContainerNames)
        .default([...DEFAULT_SIDECAR_CONTAINERS_FLAG], DEFAULT_SIDECAR_CONTAINERS_FLAG.join(",")),
    )
    .addOption(podsFlag());
  for (const o of [...metricsFlags(), ...streamFlags()]) cmd.addOption(o);
  return cmd;
}

/** The agent's settings from the command line; unset flags leave the agent's own defaults (which depend on the bpftrace found). */
export function agentSettings(opts: Omit<AgentCliOptions, "nats">): NonNullable<AgentServiceOptions["agent"]> {
  return {
    ...(opts.bpftrace ? { bpftrace: opts.bpftrace } : {}),
    ...(opts.perfRbPages !== undefined ? { perfRbPages: opts.perfRbPages } : {}),
    reorderWindowMs: opts.reorderWindowMs,
    mesh: { sidecarUid: opts.sidecarUid },
    ...(opts.traceSelf ? { exclude: false as const } : {}),
    podResolver: { mode: opts.podResolver, ...(opts.criSocket ? { criSocket: opts.criSocket } : {}), sidecarContainers: opts.sidecarContainers },
    ...(opts.pods ? { podGlobs: opts.pods } : {}),
  };
}

/**
 * The streams from the command line: the events stream sized by time (the
 * transport turns horizon and rate into max age and max bytes; the other
 * streams keep their limits) and every stream's replicas. Plain data, so it
 * crosses to the consumer worker as it is.
 */
export function eventsStreamLimits(opts: Pick<AgentCliOptions, "eventsHorizon" | "eventsRate" | "streamReplicas">): StreamLimitsOverrides {
  return {
    eventsHorizon: { horizonMs: opts.eventsHorizon, eventsPerSec: opts.eventsRate },
    ...(opts.streamReplicas !== undefined ? { replicas: opts.streamReplicas } : {}),
  };
}

export function registerAgent(program: Command): void {
  const agent = addAgentOptions(
    program
      .command("agent")
      .description("run the node agent only: bpftrace probes → connection events → NATS JetStream")
      .addOption(natsFlag()),
  );
  for (const o of natsAuthFlags()) agent.addOption(o);
  agent.action(async (opts: AgentCliOptions) => {
    const { createLogger } = await import("../../log/logger.js");
    const { createMetrics, startMetricsServer } = await import("../../metrics/mod.js");
    const { onShutdown, startAgentService } = await import("../../runtime/mod.js");
    const log = createLogger({ name: "tcptrail-agent" });
    const metrics = createMetrics();
    const natsAuth = natsAuthFromFlags(opts);
    const service = await startAgentService({
      natsUrl: opts.nats,
      ...(natsAuth ? { natsAuth } : {}),
      ...(opts.node ? { node: opts.node } : {}),
      logger: log,
      metrics,
      streams: eventsStreamLimits(opts),
      agent: {
        ...agentSettings(opts),
        ...(opts.traceSelf ? {} : { exclude: { pid: process.pid, ports: opts.metrics ? [opts.metricsPort] : [] } }),
      },
    });
    const server = opts.metrics ? await startMetricsServer(metrics.registry, { port: opts.metricsPort }) : undefined;
    log.info({ node: service.node, nats: opts.nats, metrics: server?.url }, "agent running");
    await onShutdown(log, async () => {
      await service.stop();
      await server?.close();
    });
  });
}
