// The messages between the main job's thread and its consumer worker. The
// main thread supervises (NATS, agent, /metrics); the worker runs the
// consumer side (consumer-side.ts). Everything crossing is plain data.
import type { ConsumerSideSettings } from "./consumer-side.js";

/** What the worker is started with. */
export interface ConsumerWorkerData {
  settings: ConsumerSideSettings;
  /** The main thread's log level; the worker logs to stderr itself at this level. */
  logLevel: string;
  /** The main logger's name, so both threads' records read alike. */
  logName?: string;
}

/** An error as it crosses threads: enough to rebuild a typed ConsumerWorkerError. */
export interface ErrorData {
  name: string;
  message: string;
  code?: string;
  stack?: string;
}

export type ToConsumerWorker =
  /** Answer with the worker registry's exposition text (a /metrics scrape). */
  | { type: "metrics"; id: number }
  /** Stop the consumer side, then answer "stopped". */
  | { type: "stop" }
  /** Test only: keep the worker's event loop busy for `ms` (a stand-in for a long store operation). */
  | { type: "block"; ms: number }
  /** Test only: throw `message` from the worker's event loop, as a bug in the consumer side would. */
  | { type: "crash"; message: string };

export type FromConsumerWorker =
  | { type: "ready"; endpoints: { store: string; api: string } }
  /** Starting failed; the worker exits after posting this. */
  | { type: "failed"; error: ErrorData }
  | { type: "metrics"; id: number; text: string }
  | { type: "stopped" };

const TO_WORKER = new Set<string>(["metrics", "stop", "block", "crash"]);
const FROM_WORKER = new Set<string>(["ready", "failed", "metrics", "stopped"]);

const typeOf = (m: unknown): unknown => (typeof m === "object" && m !== null ? (m as { type?: unknown }).type : undefined);

export const isToConsumerWorker = (m: unknown): m is ToConsumerWorker => TO_WORKER.has(typeOf(m) as string);
export const isFromConsumerWorker = (m: unknown): m is FromConsumerWorker => FROM_WORKER.has(typeOf(m) as string);

export function errorData(err: unknown): ErrorData {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { name: err.name, message: err.message, ...(typeof code === "string" ? { code } : {}), ...(err.stack ? { stack: err.stack } : {}) };
  }
  return { name: "Error", message: String(err) };
}
