// The agent pipeline in a worker thread (the agent service's): the main
// thread hands bpftrace's raw stdout chunks over without copying or splitting
// them and gets back encoded EventBatch payloads, ready to publish. Parsing,
// ordering, attribution and encoding, and the garbage they make, stay off the
// event loop that reads bpftrace and talks to NATS: on a 2-core node that is
// the difference between one core doing everything and two sharing it.
import type { Worker } from "node:worker_threads";
import {
  EMPTY_PIPELINE_STATS,
  resolvePipelineSettings,
  type AgentPipeline,
  type AgentPipelineFactory,
  type PipelineContext,
  type PipelineHooks,
  type PipelineStats,
  type ReleasedHorizon,
} from "../agent/mod.js";
import type { PodResolverSpec } from "../agent/cri/mod.js";
import { InvalidArgumentError } from "../errors/mod.js";
import type { Logger } from "../log/logger.js";
import type { KernelNs } from "../model/mod.js";
import type { BatchOrigin, EncodedBatch } from "../transport/mod.js";
import { startModuleWorker } from "./module-worker.js";
import { isFromWorker, transferable, type FromWorker, type PipelineWorkerData, type ToWorker } from "./pipeline-protocol.js";

/**
 * bpftrace output handed to the worker and not parsed yet, beyond which the
 * main thread stops reading it: bpftrace then blocks or counts lost events
 * (a GAP), as when an in-thread agent falls behind, instead of the backlog
 * growing in memory. 32 MiB is about a second of a busy node's output.
 */
export const DEFAULT_MAX_PENDING_BYTES = 32 * 1024 * 1024;
/**
 * The worker's young generation: events live through the reorder window
 * (100 ms, tens of thousands of them on a busy node); a nursery that holds
 * them lets most die young instead of being promoted and collected again.
 * (Now that events are reused, 128 MB was tried: alternating runs on the
 * replay bench showed no difference beyond the machine's noise.)
 */
export const DEFAULT_WORKER_YOUNG_GENERATION_MB = 64;

export interface WorkerPipelineOptions {
  /** How to cut and encode: the publisher's settings (EventPublisher.batching). */
  batching: { origin: BatchOrigin; maxBatchEvents: number; maxBatchDelayMs: number };
  /** Each encoded batch, in seq order (a publisher's pushBatch). */
  onBatch(batch: EncodedBatch): void;
  /** Read-ahead bound in bytes. Default DEFAULT_MAX_PENDING_BYTES (32 MiB). */
  maxPendingBytes?: number;
  /** The worker's young generation in MB. Default DEFAULT_WORKER_YOUNG_GENERATION_MB (64). */
  youngGenerationMb?: number;
  /** The pod resolver the worker builds for itself (choosePodResolver's answer). Default: named namespaces under /run/netns. */
  pods?: PodResolverSpec;
}

/** An Agent `pipeline` option: the pipeline runs in a worker and delivers encoded batches to `onBatch`. */
export function workerPipeline(o: WorkerPipelineOptions): AgentPipelineFactory {
  return (ctx) => new WorkerPipeline(ctx, o);
}

export class WorkerPipeline implements AgentPipeline {
  readonly #worker: Worker;
  readonly #hooks: PipelineHooks;
  readonly #log: Logger;
  readonly #onBatch: (batch: EncodedBatch) => void;
  readonly #maxPending: number;
  #stats: PipelineStats = { ...EMPTY_PIPELINE_STATS };
  #horizon: ReleasedHorizon | undefined;
  #sentBytes = 0;
  #consumedBytes = 0;
  #paused = false;
  #stopping: Promise<void> | undefined;
  #stopped: (() => void) | undefined;
  #stopSent = false;
  #gone = false;

  constructor(ctx: PipelineContext, o: WorkerPipelineOptions) {
    if (ctx.pods) throw InvalidArgumentError.format("pods", "cannot cross to a worker thread: give a custom PodResolver to the in-thread pipeline, or a PodResolverSpec to workerPipeline");
    resolvePipelineSettings(ctx.settings); // fails here, not in the worker
    this.#hooks = ctx.hooks;
    this.#log = ctx.logger;
    this.#onBatch = o.onBatch;
    this.#maxPending = o.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    const data: PipelineWorkerData = { settings: ctx.settings, batching: o.batching, logLevel: ctx.logger.level, ...(o.pods ? { pods: o.pods } : {}) };
    this.#worker = startModuleWorker(import.meta.url, "pipeline-worker", {
      workerData: data,
      resourceLimits: { maxYoungGenerationSizeMb: o.youngGenerationMb ?? DEFAULT_WORKER_YOUNG_GENERATION_MB },
      name: "tcptrail-agent-pipeline",
    });
    this.#worker.on("message", (m: unknown) => {
      if (isFromWorker(m)) this.#onMessage(m);
    });
    this.#worker.on("error", (err) => this.#log.error({ err }, "agent pipeline worker failed: no more events are processed"));
    this.#worker.on("exit", (code) => {
      this.#gone = true;
      if (!this.#stopping) this.#log.error({ exitCode: code }, "agent pipeline worker exited");
      this.#stopped?.();
    });
    // Like the in-thread pipeline's timers, the worker alone does not keep the process alive.
    this.#worker.unref();
  }

  feedLine(line: string): void {
    this.#post({ type: "line", line });
  }

  feedChunk(chunk: Buffer): boolean {
    const { view, buffer } = transferable(chunk);
    this.#sentBytes += view.byteLength;
    this.#post({ type: "chunk", chunk: view }, [buffer]);
    if (this.#sentBytes - this.#consumedBytes > this.#maxPending) this.#paused = true;
    return !this.#paused;
  }

  endOfStream(): void {
    this.#post({ type: "end" });
  }

  noteCrash(reason: string): void {
    this.#post({ type: "crash", reason });
  }

  reportDropped(count: number, firstTsNs: KernelNs, lastTsNs: KernelNs): void {
    this.#post({ type: "dropped", count, firstTsNs, lastTsNs });
  }

  startClock(): void {
    this.#post({ type: "startClock" });
  }

  tick(): void {
    this.#post({ type: "tick" });
  }

  /** Resolves once the worker released and posted everything (and every batch reached onBatch), then ends it. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (!this.#gone) {
        const stopped = new Promise<void>((resolve) => (this.#stopped = resolve));
        this.#post({ type: "stop" });
        this.#stopSent = true;
        await stopped;
      }
      await this.#worker.terminate();
    })();
    return this.#stopping;
  }

  stats(): PipelineStats {
    return this.#stats;
  }

  /** The worker's horizon as of its last report (it reports each 100 ms step). */
  horizon(): ReleasedHorizon | undefined {
    return this.#horizon;
  }

  #post(m: ToWorker, transfer: ArrayBuffer[] = []): void {
    // After stop() or a crash of the worker there is no one to tell.
    if (this.#gone || this.#stopSent) return;
    this.#worker.postMessage(m, transfer);
  }

  #onMessage(m: FromWorker): void {
    switch (m.type) {
      case "batch":
        this.#onBatch(m.batch);
        break;
      case "begin":
        this.#hooks.onBegin(m.tsNs);
        break;
      case "progress":
        this.#progress(m.stats, m.consumedBytes);
        break;
      case "horizon":
        this.#horizon = m.horizon ?? undefined;
        break;
      case "log":
        this.#relog(m.record);
        break;
      case "stopped":
        this.#horizon = undefined;
        this.#progress(m.stats, m.consumedBytes);
        this.#stopped?.();
        break;
    }
  }

  #progress(stats: PipelineStats, consumedBytes: number): void {
    this.#stats = stats;
    this.#consumedBytes = consumedBytes;
    if (this.#paused && this.#sentBytes - consumedBytes <= this.#maxPending / 2) {
      this.#paused = false;
      this.#hooks.onDrain();
    }
  }

  /** A worker's pino record, logged again by the main thread's logger at its level. */
  #relog(record: string): void {
    try {
      const { level, msg, ...fields } = JSON.parse(record) as { level: number; msg?: string };
      const label = this.#log.levels.labels[level] as "info" | "warn" | "error" | "debug" | "trace" | "fatal" | undefined;
      if (label) this.#log[label](fields, msg ?? "");
    } catch {
      // not a record: nothing to say
    }
  }
}
