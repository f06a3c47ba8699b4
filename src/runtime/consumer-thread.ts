// The main thread's handle on the consumer worker (consumer-worker.ts):
// starts it and waits until its consumer and API are up, fetches its metrics
// text for /metrics scrapes without ever waiting long, stops it with a bound,
// and reports a crash instead of letting the job run half-alive.
import type { Worker } from "node:worker_threads";
import type { Logger } from "../log/logger.js";
import { startModuleWorker } from "./module-worker.js";
import type { ConsumerSideSettings } from "./consumer-side.js";
import { isFromConsumerWorker, type ConsumerWorkerData, type FromConsumerWorker, type ToConsumerWorker } from "./consumer-protocol.js";
import { ConsumerWorkerError } from "./errors.js";

/** A scrape waits this long for the worker's metrics before serving them as stale. */
export const DEFAULT_CONSUMER_METRICS_TIMEOUT_MS = 100;
/** stop() waits this long for the worker's "stopped" (its last traces written) before terminating it. */
export const DEFAULT_CONSUMER_STOP_TIMEOUT_MS = 15_000;

export interface ConsumerThreadOptions {
  settings: ConsumerSideSettings;
  logger: Logger;
  /** Called once when the worker dies after it was up (not at stop()). */
  onCrash(err: ConsumerWorkerError): void;
  /** Default DEFAULT_CONSUMER_STOP_TIMEOUT_MS. */
  stopTimeoutMs?: number;
}

export class ConsumerThread {
  readonly endpoints: { store: string; api: string };
  readonly #worker: Worker;
  readonly #log: Logger;
  readonly #stopTimeoutMs: number;
  readonly #pendingMetrics = new Map<number, (text: string | undefined) => void>();
  readonly #exited: Promise<void>;
  #nextId = 0;
  #stopped: (() => void) | undefined;
  #stopping: Promise<void> | undefined;

  private constructor(worker: Worker, endpoints: { store: string; api: string }, exited: Promise<void>, o: ConsumerThreadOptions) {
    this.#worker = worker;
    this.endpoints = endpoints;
    this.#exited = exited;
    this.#log = o.logger;
    this.#stopTimeoutMs = o.stopTimeoutMs ?? DEFAULT_CONSUMER_STOP_TIMEOUT_MS;
  }

  /** Resolves once the worker's consumer and API are up; rejects with a ConsumerWorkerError if it fails to. */
  static start(o: ConsumerThreadOptions): Promise<ConsumerThread> {
    const data: ConsumerWorkerData = { settings: o.settings, logLevel: o.logger.level };
    const worker = startModuleWorker(import.meta.url, "consumer-worker", { workerData: data, name: "tcptrail-consumer" });
    let thread: ConsumerThread | undefined;
    let lastError: Error | undefined;
    let resolveExit!: () => void;
    const exited = new Promise<void>((r) => (resolveExit = r));
    return new Promise<ConsumerThread>((resolve, reject) => {
      worker.on("message", (m: unknown) => {
        if (!isFromConsumerWorker(m)) return;
        if (thread) return thread.#onMessage(m);
        if (m.type === "ready") {
          thread = new ConsumerThread(worker, m.endpoints, exited, o);
          resolve(thread);
        } else if (m.type === "failed") {
          reject(ConsumerWorkerError.from("the consumer worker could not start", m.error));
        }
      });
      worker.on("error", (err) => {
        lastError = err;
        if (!thread) reject(new ConsumerWorkerError(`the consumer worker failed while starting: ${err.message}`, { cause: err }));
      });
      worker.on("exit", (exitCode) => {
        resolveExit();
        if (!thread) {
          reject(new ConsumerWorkerError(`the consumer worker exited with code ${exitCode} while starting`, lastError ? { cause: lastError } : {}));
          return;
        }
        for (const answer of thread.#pendingMetrics.values()) answer(undefined);
        thread.#pendingMetrics.clear();
        if (thread.#stopping) return;
        const err = lastError
          ? new ConsumerWorkerError(`the consumer worker crashed: ${lastError.message}`, { cause: lastError })
          : new ConsumerWorkerError(`the consumer worker exited with code ${exitCode}`);
        o.logger.error({ err, exitCode }, "consumer worker died: no more events are consumed, stored or served");
        o.onCrash(err);
      });
    });
  }

  /** The worker registry's exposition text, or undefined when it does not answer within timeoutMs. */
  metricsText(timeoutMs = DEFAULT_CONSUMER_METRICS_TIMEOUT_MS): Promise<string | undefined> {
    if (this.#stopping) return Promise.resolve(undefined);
    const id = this.#nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#pendingMetrics.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.#pendingMetrics.set(id, (text) => {
        clearTimeout(timer);
        resolve(text);
      });
      this.#post({ type: "metrics", id });
    });
  }

  /** Test only: keeps the worker's event loop busy for ms. */
  blockForTest(ms: number): void {
    this.#post({ type: "block", ms });
  }

  /** Test only: makes the worker throw `message` from its event loop (an uncaught error, as from a bug). */
  crashForTest(message: string): void {
    this.#post({ type: "crash", message });
  }

  /** Asks the worker to stop its consumer side, waits for it (bounded), then ends the thread. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      const stopped = new Promise<boolean>((resolve) => {
        this.#stopped = () => resolve(true);
        const timer = setTimeout(() => resolve(false), this.#stopTimeoutMs);
        timer.unref();
        void this.#exited.then(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      this.#post({ type: "stop" });
      if (!(await stopped)) this.#log.warn({ timeoutMs: this.#stopTimeoutMs }, "consumer worker did not stop in time: terminating it");
      await this.#worker.terminate();
    })();
    return this.#stopping;
  }

  #onMessage(m: FromConsumerWorker): void {
    if (m.type === "metrics") {
      this.#pendingMetrics.get(m.id)?.(m.text);
      this.#pendingMetrics.delete(m.id);
    } else if (m.type === "stopped") {
      this.#stopped?.();
    }
  }

  #post(m: ToConsumerWorker): void {
    try {
      this.#worker.postMessage(m);
    } catch {
      // The worker is gone: its exit handler reports that.
    }
  }
}
