// What the Agent drives: probe output in, ordered and attributed events out.
// The Agent itself only runs bpftrace and keeps its lifecycle; the pipeline
// behind this interface does the per-event work, either in the caller's
// thread (EventPipeline: tests, replays, a caller's own PodResolver) or in a
// worker thread (runtime/worker-pipeline.ts: the agent service), so that a
// busy node's parsing, ordering, attribution and encoding leave the event
// loop that reads bpftrace and talks to NATS.
import { nsSpan, positiveIntervalMs, type KernelNs } from "../model/mod.js";
import type { Logger } from "../log/logger.js";
import type { MeshRoleOptions } from "./role.js";
import type { PodResolver } from "./pod-resolver.js";
import { PodFilter } from "./pod-filter.js";

export const DEFAULT_AGENT_TICK_MS = 20;
export const DEFAULT_REORDER_WINDOW_MS = 100;
export const DEFAULT_LINGER_MS = 10_000;

/** The pipeline's counters (the Agent adds its own: queue drops, bpftrace restarts). */
export interface PipelineStats {
  linesRead: number;
  eventsRead: number;
  eventsReleased: number;
  malformedLines: number;
  kernelLost: number;
  lateEvents: number;
  reordered: number;
  unattributed: number;
  /** Events of other pods' sockets, dropped by the pod filter (not lost: another agent reports them). */
  eventsFiltered: number;
  liveSockets: number;
}

export const EMPTY_PIPELINE_STATS: Readonly<PipelineStats> = Object.freeze({
  linesRead: 0,
  eventsRead: 0,
  eventsReleased: 0,
  malformedLines: 0,
  kernelLost: 0,
  lateEvents: 0,
  reordered: 0,
  unattributed: 0,
  eventsFiltered: 0,
  liveSockets: 0,
});

/** How events are ordered and attributed: plain data, so that it can cross to a worker. */
export interface PipelineSettings {
  /** Node name: the host namespace's pod name. */
  node: string;
  /** How long events wait to be put in kernel-timestamp order. Default DEFAULT_REORDER_WINDOW_MS (100). */
  reorderWindowMs?: number;
  /** How often ordered events are released, whole ms >= 1. Default DEFAULT_AGENT_TICK_MS (20). */
  tickMs?: number;
  /** How long a closed socket's tuple and owner are kept for late events. Default DEFAULT_LINGER_MS (10 s). */
  lingerMs?: number;
  mesh?: MeshRoleOptions;
  /**
   * Report only sockets whose pod name matches one of these globs
   * (pod-filter.ts; the host namespace is named after the node). Default:
   * every socket.
   */
  podGlobs?: readonly string[];
}

export interface ResolvedPipelineSettings {
  node: string;
  windowNs: bigint;
  tickMs: number;
  lingerNs: bigint;
  mesh: MeshRoleOptions;
  podFilter: PodFilter | undefined;
}

/**
 * The settings over their defaults, checked once: a bad value fails when the
 * Agent is constructed, before bpftrace starts or a worker is spawned.
 */
export function resolvePipelineSettings(s: PipelineSettings): ResolvedPipelineSettings {
  return {
    node: s.node,
    tickMs: positiveIntervalMs("tickMs", s.tickMs, DEFAULT_AGENT_TICK_MS),
    windowNs: nsSpan((s.reorderWindowMs ?? DEFAULT_REORDER_WINDOW_MS) * 1e6),
    lingerNs: nsSpan((s.lingerMs ?? DEFAULT_LINGER_MS) * 1e6),
    mesh: s.mesh ?? {},
    podFilter: s.podGlobs !== undefined ? new PodFilter(s.podGlobs) : undefined,
  };
}

/**
 * How far the pipeline has got: every event it read with a kernel time up to
 * `tsNs` was released to its sink, with a seq up to `seq`. What an agent's
 * heartbeat may claim once those seqs are published (runtime/agent-heartbeat.ts).
 */
export interface ReleasedHorizon {
  tsNs: KernelNs;
  /** tsNs on the wall clock (µs), converted as the events' time_us are. */
  timeUs: number;
  /** The last seq released (0: none yet). */
  seq: number;
}

/** What the pipeline tells the Agent. */
export interface PipelineHooks {
  /** bpftrace's BEGIN line was read: its probes are attached. */
  onBegin(tsNs: KernelNs): void;
  /** After feedChunk returned false: the pipeline caught up, read bpftrace's output again. */
  onDrain(): void;
}

/** Everything a pipeline is built from. */
export interface PipelineContext {
  settings: PipelineSettings;
  /** A caller's resolver (in-thread only: it cannot cross to a worker). Default: named namespaces under /run/netns. */
  pods?: PodResolver;
  logger: Logger;
  hooks: PipelineHooks;
}

export interface AgentPipeline {
  /** One probe line, without its newline (tests and replays). */
  feedLine(line: string): void;
  /**
   * Raw bpftrace stdout, in order. The pipeline may take the chunk over
   * (move it to another thread): the caller must not touch it afterwards.
   * Returns false when the caller should stop reading until hooks.onDrain.
   */
  feedChunk(chunk: Buffer): boolean;
  /** The current bpftrace's stdout ended: a last line without newline is complete. */
  endOfStream(): void;
  /** bpftrace died: a GAP from the last event seen to its next BEGIN, saying why. */
  noteCrash(reason: string): void;
  /** The publisher dropped events: make the hole visible downstream. */
  reportDropped(count: number, firstTsNs: KernelNs, lastTsNs: KernelNs): void;
  /** Start releasing ordered events on a timer. */
  startClock(): void;
  /** Release events older than the reorder window now. */
  tick(): void;
  /** Release everything buffered, deliver it, stop the timers; resolves once delivered. */
  stop(): Promise<void>;
  /** The latest counters (a worker's as of its last report). */
  stats(): PipelineStats;
  /**
   * The released horizon (a worker's as of its last report), or undefined
   * while none can be claimed honestly: before bpftrace's probes attached,
   * while it is restarting (what it misses meanwhile only its GAP will say),
   * while a drop GAP waits in the reorder buffer.
   */
  horizon(): ReleasedHorizon | undefined;
}

/** Builds the pipeline an Agent drives. */
export type AgentPipelineFactory = (ctx: PipelineContext) => AgentPipeline;
