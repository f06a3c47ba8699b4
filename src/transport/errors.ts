// Failure kinds of the transport. Each has a stable `code` so callers (the CLI,
// the agent) can react without parsing messages.

export type TransportErrorCode =
  | "NATS_UNREACHABLE"
  | "NATS_SERVER_MISSING"
  | "NATS_SERVER_START_FAILED"
  | "MALFORMED_MESSAGE"
  | "PUBLISHER_CLOSED";

export abstract class TransportError extends Error {
  abstract readonly code: TransportErrorCode;
}

/** The NATS server could not be reached when connecting for the first time. */
export class NatsUnreachableError extends TransportError {
  readonly code = "NATS_UNREACHABLE" as const;
  constructor(readonly url: string, options?: ErrorOptions) {
    super(
      `cannot reach NATS at ${url}: is nats-server running? (start one with \`nats-server -js\`, or pass --nats <url>)`,
      options,
    );
    this.name = "NatsUnreachableError";
  }
}

/** The nats-server binary is not installed. */
export class NatsServerMissingError extends TransportError {
  readonly code = "NATS_SERVER_MISSING" as const;
  constructor(readonly binary: string, options?: ErrorOptions) {
    super(`${binary} not found: install it: apt-get install nats-server`, options);
    this.name = "NatsServerMissingError";
  }
}

/** nats-server exited or never became ready. */
export class NatsServerStartError extends TransportError {
  readonly code = "NATS_SERVER_START_FAILED" as const;
  constructor(message: string, readonly stderr: string, options?: ErrorOptions) {
    super(stderr ? `${message}: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : message, options);
    this.name = "NatsServerStartError";
  }
}

/** A message on an events subject that is not a sane EventBatch. */
export class MalformedMessageError extends TransportError {
  readonly code = "MALFORMED_MESSAGE" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(`malformed event batch: ${message}`, options);
    this.name = "MalformedMessageError";
  }
}

/** push() after close(). */
export class PublisherClosedError extends TransportError {
  readonly code = "PUBLISHER_CLOSED" as const;
  constructor() {
    super("event publisher is closed");
    this.name = "PublisherClosedError";
  }
}

const hasCode = (e: unknown, code: TransportErrorCode): boolean =>
  e instanceof TransportError && e.code === code;

export const isTransportError = (e: unknown): e is TransportError => e instanceof TransportError;
export const isNatsUnreachableError = (e: unknown): e is NatsUnreachableError => hasCode(e, "NATS_UNREACHABLE");
export const isNatsServerMissingError = (e: unknown): e is NatsServerMissingError =>
  hasCode(e, "NATS_SERVER_MISSING");
export const isNatsServerStartError = (e: unknown): e is NatsServerStartError =>
  hasCode(e, "NATS_SERVER_START_FAILED");
export const isMalformedMessageError = (e: unknown): e is MalformedMessageError => hasCode(e, "MALFORMED_MESSAGE");
export const isPublisherClosedError = (e: unknown): e is PublisherClosedError => hasCode(e, "PUBLISHER_CLOSED");
