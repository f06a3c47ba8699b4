// The node agent: runs bpftrace and keeps its lifecycle (preflight, attach,
// crash and restart, clean stop), and drives a pipeline that turns its output
// into ordered and attributed connection events (agent-pipeline.ts): in this
// thread by default, or in a worker thread when the caller builds one.
import { hostname } from "node:os";
import { InvalidArgumentError } from "../errors/mod.js";
import type { ConnEventInit, KernelNs } from "../model/mod.js";
import {
  BpftraceRunner,
  ProbeAttachError,
  SLOW_BPFTRACE_WARNING,
  defaultProgramPath,
  preflight,
  programArgs,
  type CrashInfo,
  type ProbeFeatures,
  type SelfExclusion,
} from "../probes/mod.js";
import { silentLogger, type Logger } from "../log/logger.js";
import type { TcptrailMetrics } from "../metrics/mod.js";
import { DEFAULT_SIDECAR_UID, type MeshRoleOptions } from "./role.js";
import type { PodResolver } from "./pod-resolver.js";
import {
  resolvePipelineSettings,
  type AgentPipeline,
  type AgentPipelineFactory,
  type PipelineContext,
  type PipelineStats,
  type ReleasedHorizon,
} from "./agent-pipeline.js";
import { EventPipeline } from "./event-pipeline.js";

export interface AgentOptions {
  /** Node name, the last token of the events subject. Default: os.hostname(). */
  node?: string;
  /**
   * Called with each released run of ordered events (a publisher's push), by
   * the in-thread pipeline. Needed unless `pipeline` is given.
   */
  sink?: (events: ConnEventInit[]) => void;
  /**
   * `sink` keeps nothing of the events once it returns (a publisher's push:
   * its cutter encodes them as they come), so the in-thread pipeline reuses
   * their objects. Default false.
   */
  reuseEvents?: boolean;
  /**
   * Builds the pipeline that parses, orders and attributes (and delivers what
   * it releases its own way, e.g. encoded batches from a worker thread).
   * Default: an EventPipeline in this thread, releasing to `sink`.
   */
  pipeline?: AgentPipelineFactory;
  /** bpftrace program. Default: probes/tcptrail.bt of this installation. */
  program?: string;
  /**
   * tcptrail's own sockets, skipped in the kernel: this process and the ports
   * given. Default { pid: process.pid, ports: [] }; false traces everything
   * (`--trace-self`).
   */
  exclude?: SelfExclusion | false;
  /** bpftrace binary. Default: $TCPTRAIL_BPFTRACE, else deploy/setup.sh's private install (DEFAULT_BPFTRACE_PREFIX), else PATH. */
  bpftrace?: string;
  /** bpftrace output buffer pages (BPFTRACE_PERF_RB_PAGES). Default: 16384 for bpftrace 0.21+, 2048 before. */
  perfRbPages?: number;
  /** How long events wait to be put in kernel-timestamp order. Default DEFAULT_REORDER_WINDOW_MS (100). */
  reorderWindowMs?: number;
  /** How often ordered events are released, whole ms >= 1. Default DEFAULT_AGENT_TICK_MS (20). */
  tickMs?: number;
  /** How long a closed socket's tuple and owner are kept for late events. Default DEFAULT_LINGER_MS (10 s). */
  lingerMs?: number;
  mesh?: MeshRoleOptions;
  /**
   * Report only sockets of pods matching these globs (`--pods`; the host
   * namespace is the node's name); the others' events are dropped before
   * encoding and counted as filtered. Default: every socket.
   */
  podGlobs?: readonly string[];
  /** Names network namespaces. Default: named namespaces under /run/netns, the host as the node name. */
  pods?: PodResolver;
  logger?: Logger;
  metrics?: TcptrailMetrics;
  /** Mount tracefs when missing (root only). Default true. */
  mountTracefs?: boolean;
}

export interface AgentStats extends PipelineStats {
  queueDropped: number;
  bpftraceRestarts: number;
}

/** How often counters reach the metrics, off the event path. */
const METRICS_EVERY_MS = 1000;

export class Agent {
  readonly node: string;
  readonly #o: AgentOptions;
  readonly #log: Logger;
  readonly #pipeline: AgentPipeline;
  #runner: BpftraceRunner | undefined;
  #metricsTimer: NodeJS.Timeout | undefined;
  #queueDropped = 0;
  #attached: { resolve: () => void; reject: (e: Error) => void } | undefined;
  #metricsAt = 0;
  #reported = { linesRead: 0, eventsRead: 0, malformed: 0, kernelLost: 0, queueDropped: 0, restarts: 0, late: 0, filtered: 0 };

  constructor(opts: AgentOptions) {
    this.#o = opts;
    this.node = opts.node ?? hostname();
    this.#log = opts.logger ?? silentLogger;
    const ctx: PipelineContext = {
      settings: {
        node: this.node,
        ...(opts.reorderWindowMs !== undefined ? { reorderWindowMs: opts.reorderWindowMs } : {}),
        ...(opts.tickMs !== undefined ? { tickMs: opts.tickMs } : {}),
        ...(opts.lingerMs !== undefined ? { lingerMs: opts.lingerMs } : {}),
        ...(opts.mesh ? { mesh: opts.mesh } : {}),
        ...(opts.podGlobs !== undefined ? { podGlobs: opts.podGlobs } : {}),
      },
      ...(opts.pods ? { pods: opts.pods } : {}),
      logger: this.#log,
      hooks: { onBegin: () => this.#onBegin(), onDrain: () => this.#runner?.resumeOutput() },
    };
    // Checked here, whichever pipeline: a bad value fails before bpftrace starts.
    resolvePipelineSettings(ctx.settings);
    if (opts.pipeline) {
      this.#pipeline = opts.pipeline(ctx);
    } else {
      if (!opts.sink) throw InvalidArgumentError.format("sink", "is needed when no pipeline is given");
      this.#pipeline = new EventPipeline({ ...ctx, sink: opts.sink, reuseEvents: opts.reuseEvents ?? false });
    }
  }

  /** PID of the running bpftrace child, if any. */
  get bpftracePid(): number | undefined {
    return this.#runner?.pid;
  }

  /** Feed one probe line (tests and replays; bpftrace's output goes to the pipeline as raw chunks). */
  readonly feed = (line: string): void => {
    this.#pipeline.feedLine(line);
  };

  /**
   * Feed raw probe output, as bpftrace writes it (lines may span chunks): what
   * the runner does, and replays may. The pipeline may take the buffer over
   * (move it to its worker). Returns false when the pipeline is behind.
   */
  feedChunk(chunk: Buffer): boolean {
    return this.#pipeline.feedChunk(chunk);
  }

  /**
   * Check the machine, start bpftrace and resolve once its probes are
   * attached (its BEGIN line arrived). Rejects with a PreflightError that
   * says what to do when the probes cannot run here, or a ProbeAttachError
   * when bpftrace exits or stalls before attaching.
   */
  async start(): Promise<ProbeFeatures> {
    const features = await preflight({ ...(this.#o.bpftrace ? { bpftrace: this.#o.bpftrace } : {}), mountTracefs: this.#o.mountTracefs ?? true });
    this.#log.info({ kprobes: features.kprobes, kfuncs: features.kfuncs }, "probe features: tracepoints only (kprobe/kfunc variants are optional)");
    const version = features.bpftraceVersion;
    this.#log.info({ bpftrace: features.bpftrace, version: version.text, source: features.bpftraceSource }, `bpftrace ${version.text}`);
    if (!features.currentBpftrace) this.#log.warn({ bpftrace: features.bpftrace, version: version.text }, SLOW_BPFTRACE_WARNING);
    const pipeline = this.#pipeline;
    this.#runner = new BpftraceRunner({
      bpftrace: features.bpftrace,
      version,
      program: this.#o.program ?? defaultProgramPath(),
      programArgs: programArgs({
        exclude: this.#o.exclude === false ? undefined : (this.#o.exclude ?? { pid: process.pid, ports: [] }),
        // The sidecar's threads are the ones whose sends the probe links to their reads (pooled upstreams).
        linkUid: this.#o.mesh?.sidecarUid ?? DEFAULT_SIDECAR_UID,
      }),
      ...(this.#o.perfRbPages !== undefined ? { perfRbPages: this.#o.perfRbPages } : {}),
      logger: this.#log,
      // Raw chunks: the pipeline splits lines itself, in whichever thread it runs.
      onChunk: (chunk) => pipeline.feedChunk(chunk),
      onOutputEnd: () => pipeline.endOfStream(),
      onCrash: (info) => this.#onCrash(info),
    });
    const attached = new Promise<void>((resolve, reject) => (this.#attached = { resolve, reject }));
    this.#runner.start();
    this.startClock();
    const timeout = setTimeout(() => this.#attached?.reject(new ProbeAttachError("bpftrace did not attach its probes within 60 s (see its stderr above)")), 60_000);
    try {
      await attached;
    } catch (err) {
      await this.stop();
      throw err;
    } finally {
      clearTimeout(timeout);
    }
    return features;
  }

  /** Start releasing ordered events on a timer (start() does this; replays call it directly). */
  startClock(): void {
    this.#pipeline.startClock();
    if (this.#o.metrics && this.#metricsTimer === undefined) {
      // The pipeline ticks on its own clock (maybe in its worker): metrics have theirs.
      this.#metricsTimer = setInterval(() => this.#reportMetrics(), METRICS_EVERY_MS);
      this.#metricsTimer.unref?.();
    }
  }

  /** Stop bpftrace, release what is buffered (delivered when this resolves) and stop the clock. */
  async stop(): Promise<void> {
    await this.#runner?.stop();
    clearInterval(this.#metricsTimer);
    this.#metricsTimer = undefined;
    await this.#pipeline.stop();
    this.#reportMetrics();
  }

  /** The publisher dropped events: make the hole visible downstream. */
  reportDropped(count: number, firstTsNs: KernelNs, lastTsNs: KernelNs): void {
    this.#queueDropped += count;
    this.#pipeline.reportDropped(count, firstTsNs, lastTsNs);
  }

  stats(): AgentStats {
    return {
      ...this.#pipeline.stats(),
      queueDropped: this.#queueDropped,
      bpftraceRestarts: this.#runner?.restarts ?? 0,
    };
  }

  /** How far the pipeline released its events (AgentPipeline.horizon): what a heartbeat may claim once they are published. */
  horizon(): ReleasedHorizon | undefined {
    return this.#pipeline.horizon();
  }

  /** Release events older than the reorder window (and report metrics if a second has passed). */
  tick(): void {
    this.#pipeline.tick();
    if (Date.now() - this.#metricsAt >= METRICS_EVERY_MS) this.#reportMetrics();
  }

  #onBegin(): void {
    this.#log.info({ bpftracePid: this.#runner?.pid }, "probes attached");
    this.#attached?.resolve();
    this.#attached = undefined;
  }

  #onCrash(info: CrashInfo): void {
    if (this.#attached) {
      // It never attached: restarting would fail the same way, so say why now.
      const why = info.stderr.split("\n").filter(Boolean).at(-1) ?? `exit ${info.exitCode ?? info.signal}`;
      this.#attached.reject(new ProbeAttachError(`bpftrace exited before attaching its probes: ${why}`));
      this.#attached = undefined;
      return;
    }
    this.#pipeline.noteCrash(`bpftrace restarted (exit ${info.exitCode ?? info.signal ?? "?"})`);
  }

  #reportMetrics(): void {
    const m = this.#o.metrics;
    if (!m) return;
    this.#metricsAt = Date.now();
    const r = this.#reported;
    const s = this.stats();
    m.probeLines.inc(s.linesRead - r.linesRead);
    m.eventsRead.inc(s.eventsRead - r.eventsRead);
    m.malformedLines.inc(s.malformedLines - r.malformed);
    m.kernelLost.inc(s.kernelLost - r.kernelLost);
    m.queueDropped.inc(s.queueDropped - r.queueDropped);
    m.bpftraceRestarts.inc(s.bpftraceRestarts - r.restarts);
    m.lateEvents.inc(s.lateEvents - r.late);
    m.eventsFiltered.inc(s.eventsFiltered - r.filtered);
    m.liveSockets.set(s.liveSockets);
    this.#reported = {
      linesRead: s.linesRead,
      eventsRead: s.eventsRead,
      malformed: s.malformedLines,
      kernelLost: s.kernelLost,
      queueDropped: s.queueDropped,
      restarts: s.bpftraceRestarts,
      late: s.lateEvents,
      filtered: s.eventsFiltered,
    };
  }
}
