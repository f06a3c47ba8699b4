// The messages between the agent's main thread and its pipeline worker. The
// main thread only reads bpftrace and talks to NATS; the worker splits,
// parses, orders, attributes and encodes. Big payloads cross by transfer,
// never by copy: raw stdout chunks one way, encoded batches the other.
import type { PipelineSettings, PipelineStats, ReleasedHorizon } from "../agent/mod.js";
import type { PodResolverSpec } from "../agent/cri/mod.js";
import type { KernelNs } from "../model/mod.js";
import type { EncodedBatch, BatchOrigin } from "../transport/mod.js";

/** What the worker is started with (structured-cloned: plain data only). */
export interface PipelineWorkerData {
  settings: PipelineSettings;
  batching: { origin: BatchOrigin; maxBatchEvents: number; maxBatchDelayMs: number };
  /** The main thread's log level: the worker forwards only what would be logged. */
  logLevel: string;
  /** Which pod resolver the worker builds (a resolver cannot cross threads, its description can). Default: named namespaces under /run/netns. */
  pods?: PodResolverSpec;
}

export type ToWorker =
  | { type: "chunk"; chunk: Uint8Array }
  | { type: "line"; line: string }
  | { type: "end" }
  | { type: "crash"; reason: string }
  | { type: "dropped"; count: number; firstTsNs: KernelNs; lastTsNs: KernelNs }
  | { type: "startClock" }
  | { type: "tick" }
  | { type: "stop" };

export type FromWorker =
  | { type: "begin"; tsNs: KernelNs }
  | { type: "batch"; batch: EncodedBatch }
  /** Counters, and the chunk bytes parsed so far (the main thread's read-ahead bound). */
  | { type: "progress"; stats: PipelineStats; consumedBytes: number }
  /** The released horizon moved (or can no longer be claimed: null). */
  | { type: "horizon"; horizon: ReleasedHorizon | null }
  /** One pino record, JSON, for the main thread's logger. */
  | { type: "log"; record: string }
  /** Everything was released and posted (stop). */
  | { type: "stopped"; stats: PipelineStats; consumedBytes: number };

const TO_WORKER = new Set<string>(["chunk", "line", "end", "crash", "dropped", "startClock", "tick", "stop"]);
const FROM_WORKER = new Set<string>(["begin", "batch", "progress", "horizon", "log", "stopped"]);

const typeOf = (m: unknown): unknown => (typeof m === "object" && m !== null ? (m as { type?: unknown }).type : undefined);

export const isToWorker = (m: unknown): m is ToWorker => TO_WORKER.has(typeOf(m) as string);
export const isFromWorker = (m: unknown): m is FromWorker => FROM_WORKER.has(typeOf(m) as string);

/**
 * The ArrayBuffer to transfer with `bytes`, moving `bytes` to a buffer of its
 * own first when it is a view into a larger one (Node's small-Buffer pool):
 * transferring a shared pool would take it from everyone else.
 */
export function transferable(bytes: Uint8Array): { view: Uint8Array; buffer: ArrayBuffer } {
  const own = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer;
  const view = own ? bytes : new Uint8Array(bytes);
  return { view, buffer: view.buffer as ArrayBuffer };
}
