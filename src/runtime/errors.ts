// Failure kinds of the runtime (the main job's supervision).
import { TcptrailError } from "../errors/mod.js";
import type { ErrorData } from "./consumer-protocol.js";

/**
 * The consumer worker failed to start or died while running. `workerError`
 * is the worker's own error as it crossed the thread boundary (its name,
 * message, code and stack), so the log and the CLI show the real cause.
 */
export class ConsumerWorkerError extends TcptrailError {
  readonly code = "ERR_RUNTIME_CONSUMER_WORKER";
  readonly workerError: ErrorData | undefined;

  constructor(message: string, options: ErrorOptions & { workerError?: ErrorData } = {}) {
    super(message, options);
    this.workerError = options.workerError;
  }

  static from(what: string, e: ErrorData): ConsumerWorkerError {
    const cause = Object.assign(new Error(e.message), { name: e.name, ...(e.code ? { code: e.code } : {}), ...(e.stack ? { stack: e.stack } : {}) });
    return new ConsumerWorkerError(`${what}: ${e.name}${e.code ? ` (${e.code})` : ""}: ${e.message}`, { cause, workerError: e });
  }
}

export const isConsumerWorkerError = (e: unknown): e is ConsumerWorkerError => e instanceof ConsumerWorkerError;
