// The node agent as a service: probes → agent → EventPublisher → JetStream,
// with the publisher's drops fed back into the event stream as GAP markers
// and every counter exported as a Prometheus metric. The agent's per-event
// work (parse, order, attribute, encode) runs in a worker thread that hands
// the publisher finished batches; this thread reads bpftrace and publishes.
import { readFileSync, statSync } from "node:fs";
import { hostname } from "node:os";
import { Agent, type AgentOptions, type AgentStats } from "../agent/mod.js";
import type { SelfExclusion } from "../probes/mod.js";
import type { Logger } from "../log/logger.js";
import type { TcptrailMetrics } from "../metrics/mod.js";
import { preflight } from "../probes/mod.js";
import { workerPipeline } from "./worker-pipeline.js";
import { choosePodResolver, createPodResolver, type PodResolverChoice } from "../agent/cri/mod.js";
import {
  ROLE_INBOX_PREFIX,
  connectNats,
  ensureStreams,
  jetstream,
  jetstreamManager,
  type EventPublisherOptions,
  type NatsAuthOptions,
  type NatsConnection,
  type PublisherStats,
  type StreamLimitsOverrides,
} from "../transport/mod.js";
import { AgentPublishing } from "./agent-publishing.js";
import { HeartbeatSender } from "./agent-heartbeat.js";

export interface AgentServiceOptions {
  natsUrl: string;
  /** Credentials and TLS for natsUrl. Default: none. */
  natsAuth?: NatsAuthOptions;
  /** Default: os.hostname(). */
  node?: string;
  logger: Logger;
  metrics?: TcptrailMetrics;
  /** Stream limits to create or update the streams with. Default: the transport's documented defaults. */
  streams?: StreamLimitsOverrides;
  /**
   * Agent settings (reorder window, perf buffer size, mesh ports and UID…). A
   * custom `pods` resolver cannot cross to a worker thread: with one, the
   * agent's pipeline runs in this thread.
   */
  agent?: AgentServiceSettings;
  /** Where the agent's per-event work runs. Default "worker" (unless agent.pods is given). */
  pipeline?: "worker" | "in-thread";
  /** Publisher settings (batch size and delay, queue bound…). */
  publisher?: Partial<Omit<EventPublisherOptions, "js" | "node" | "bootId" | "agentStartUs" | "onDrop" | "onQueued" | "onPublished" | "logger">>;
  /**
   * The agent's own state: the high-water record of events read and not yet
   * published, from which the next start publishes a GAP for a run that
   * stopped (or crashed) with events unpublished. Default: none (they are
   * counted and logged only).
   */
  stateDir?: string;
  /** How often an idle agent sends a heartbeat (agent-heartbeat.ts), whole ms >= 1. Default DEFAULT_HEARTBEAT_MS (1000). */
  heartbeatMs?: number;
}

/**
 * The agent's settings as the service takes them: the Agent's own, and which
 * pod resolver to use (`--pod-resolver`, `--cri-socket`), decided at start.
 * An explicit `pods` resolver wins over the choice.
 */
export type AgentServiceSettings = Omit<AgentOptions, "sink" | "node" | "logger" | "metrics" | "pipeline"> & { podResolver?: PodResolverChoice };

export interface AgentService {
  node: string;
  agent: Agent;
  stats(): { agent: AgentStats; publisher: PublisherStats };
  stop(): Promise<void>;
}

function bootId(): string {
  try {
    return readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim();
  } catch {
    return "unknown-boot";
  }
}

/** The inode of this process's network namespace; 0 (any) when it cannot be read. */
function ownNetns(): number {
  try {
    return statSync("/proc/self/ns/net").ino;
  } catch {
    return 0;
  }
}

/**
 * What the probe skips as ours: this process, the ports the caller names (API,
 * metrics) and the NATS server's port when it is on loopback (the embedded
 * one). false (--trace-self) traces everything.
 */
export function ownSockets(given: SelfExclusion | false | undefined, natsUrl: string): SelfExclusion | false {
  if (given === false) return false;
  const ports: number[] = [];
  for (const server of natsUrl.split(",")) {
    try {
      const u = new URL(server.trim().replace(/^(nats|tls):\/\//, "http://"));
      const host = u.hostname.replace(/^\[|\]$/g, "");
      if (host === "localhost" || host === "::1" || host.startsWith("127.")) ports.push(Number(u.port || 4222));
    } catch {
      // Not a URL we can read: nothing to skip for it.
    }
  }
  return { pid: given?.pid ?? process.pid, ports: [...ports, ...(given?.ports ?? [])], netns: given?.netns ?? ownNetns() };
}

export async function startAgentService(o: AgentServiceOptions): Promise<AgentService> {
  const node = o.node ?? hostname();
  const log = o.logger;
  // The machine first: "run it as root" or "mount tracefs" is the sentence to hear, not a NATS error.
  await preflight({ ...(o.agent?.bpftrace ? { bpftrace: o.agent.bpftrace } : {}), mountTracefs: o.agent?.mountTracefs ?? true });
  // The agent role's own inbox prefix whatever the credentials: a NATS user made from docs/SECURITY.md's
  // table (a .creds, a Kubernetes user) may hear on `_INBOX_TCPTRAIL_AGENT.>` only, not on `_INBOX.>`.
  const auth = { inboxPrefix: ROLE_INBOX_PREFIX.agent, ...o.natsAuth };
  const nc: NatsConnection = await connectNats(o.natsUrl, { name: `tcptrail-agent-${node}`, logger: log, auth });
  try {
    // The events stream only: it is all the agent publishes to, and all an agent's NATS user may manage.
    await ensureStreams(await jetstreamManager(nc), o.streams, ["events"]);
    // Earlier runs' unpublished events first (their GAPs), then this run's publisher.
    const origin = { node, bootId: bootId(), agentStartUs: Date.now() * 1000 };
    const publishing = await AgentPublishing.start({
      js: jetstream(nc),
      ...origin,
      logger: log,
      ...(o.metrics ? { metrics: o.metrics } : {}),
      ...(o.stateDir !== undefined ? { stateDir: o.stateDir } : {}),
      ...(o.publisher ? { publisher: o.publisher } : {}),
    });
    const publisher = publishing.publisher;
    const { podResolver, ...agentOptions } = o.agent ?? {};
    const inThread = o.pipeline === "in-thread" || agentOptions.pods !== undefined;
    // A socket that answers now is the one used; one that stops answering later
    // only delays names (the resolver keeps what it knew and logs the outage).
    const pods = agentOptions.pods === undefined ? await choosePodResolver(podResolver, { logger: log }) : undefined;
    const ownPods = inThread && pods ? createPodResolver(pods, node, log) : undefined;
    const agent: Agent = new Agent({
      ...agentOptions,
      ...(ownPods ? { pods: ownPods } : {}),
      exclude: ownSockets(o.agent?.exclude, o.natsUrl),
      node,
      logger: log,
      ...(o.metrics ? { metrics: o.metrics } : {}),
      ...(inThread
        ? { sink: (events) => publisher.push(events), reuseEvents: true }
        : { pipeline: workerPipeline({ batching: publisher.batching, onBatch: (batch) => publisher.pushBatch(batch), ...(pods ? { pods } : {}) }) }),
    });
    publishing.bind(agent);
    try {
      await agent.start();
    } catch (err) {
      ownPods?.close?.();
      publishing.beginStop();
      await publishing.stop(0);
      throw err;
    }

    const heartbeat = new HeartbeatSender({
      origin,
      publish: (subject, data) => nc.publish(subject, data),
      horizon: () => agent.horizon(),
      published: () => publishing.progress(),
      ...(o.heartbeatMs !== undefined ? { intervalMs: o.heartbeatMs } : {}),
      logger: log,
    });
    heartbeat.start();

    // Publisher counters reach Prometheus once a second, off the event path.
    let reported = { published: 0, dropped: 0 };
    const timer = setInterval(() => {
      const s = publisher.stats();
      o.metrics?.eventsPublished.inc(s.published - reported.published);
      o.metrics?.queuedEvents.set(s.queued);
      reported = { published: s.published, dropped: s.dropped };
    }, 1000);
    timer.unref();

    return {
      node,
      agent,
      stats: () => ({ agent: agent.stats(), publisher: publisher.stats() }),
      async stop() {
        clearInterval(timer);
        heartbeat.stop();
        publishing.beginStop();
        await agent.stop();
        ownPods?.close?.();
        const { publisher: s, unpublished } = await publishing.stop();
        log.info({ agent: agent.stats(), publisher: s, unpublished }, "agent stopped");
        await nc.drain().catch(() => nc.close());
      },
    };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw err;
  }
}
