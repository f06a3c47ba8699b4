// Failure kinds of the trace consumer service, each with a stable `code`.

export type ConsumerErrorCode = "CONSUMER_OPTIONS";

export abstract class ConsumerError extends Error {
  abstract readonly code: ConsumerErrorCode;
}

/** startConsumerService() was given options it cannot run with. */
export class ConsumerOptionsError extends ConsumerError {
  readonly code = "CONSUMER_OPTIONS" as const;
  constructor(message: string) {
    super(`consumer options: ${message}`);
    this.name = "ConsumerOptionsError";
  }
}

export const isConsumerError = (e: unknown): e is ConsumerError => e instanceof ConsumerError;
export const isConsumerOptionsError = (e: unknown): e is ConsumerOptionsError =>
  e instanceof ConsumerError && e.code === "CONSUMER_OPTIONS";
