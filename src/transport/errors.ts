// Failure kinds of the transport, each a TcptrailError with a stable code so
// callers (the CLI, the agent) can react without parsing messages.
import { InvalidArgumentError, TcptrailError, type InvalidArgumentOptions } from "../errors/mod.js";

export interface NatsUnreachableOptions extends ErrorOptions {
  /** The server URL that did not answer. */
  url: string;
}

/** The NATS server could not be reached when connecting for the first time. */
export class NatsUnreachableError extends TcptrailError {
  readonly code = "ERR_TRANSPORT_NATS_UNREACHABLE";
  readonly url: string;
  constructor(message: string, options: NatsUnreachableOptions) {
    super(message, options);
    this.url = options.url;
  }
}

export interface NatsServerMissingOptions extends ErrorOptions {
  /** The binary looked for (a path, or "nats-server" on PATH). */
  binary: string;
}

/** The nats-server binary is not installed. */
export class NatsServerMissingError extends TcptrailError {
  readonly code = "ERR_TRANSPORT_NATS_SERVER_MISSING";
  readonly binary: string;
  constructor(message: string, options: NatsServerMissingOptions) {
    super(message, options);
    this.binary = options.binary;
  }
}

export interface NatsServerStartOptions extends ErrorOptions {
  /** The tail of what nats-server printed; its last lines say why it did not start. */
  stderr: string;
}

/** nats-server exited or never became ready. */
export class NatsServerStartError extends TcptrailError {
  readonly code = "ERR_TRANSPORT_NATS_SERVER_START";
  readonly stderr: string;
  /** The message gets the last 3 lines of `stderr` appended: that is where nats-server says why. */
  constructor(message: string, options: NatsServerStartOptions) {
    const { stderr } = options;
    super(stderr ? `${message}: ${stderr.trim().split("\n").slice(-3).join(" | ")}` : message, options);
    this.stderr = stderr;
  }
}

/**
 * NATS credentials or TLS files that cannot be used: missing, unreadable, not
 * what the flag says (a .creds, a seed, PEM), or given in a contradictory
 * combination. Found before connecting; `property` names the flag.
 */
export class NatsAuthError extends InvalidArgumentError {
  override readonly code = "ERR_TRANSPORT_NATS_AUTH";
}

/** A message on an events subject that is not a sane EventBatch. The message is prefixed "malformed event batch: ". */
export class MalformedMessageError extends TcptrailError {
  readonly code = "ERR_TRANSPORT_MALFORMED_MESSAGE";
  constructor(message: string, options?: ErrorOptions) {
    super(`malformed event batch: ${message}`, options);
  }
}

/** push() after close(). */
export class PublisherClosedError extends TcptrailError {
  readonly code = "ERR_TRANSPORT_PUBLISHER_CLOSED";
}

export interface StreamStorageOptions extends InvalidArgumentOptions {
  /** The max_bytes the server could not reserve. */
  maxBytes: number;
}

/**
 * A stream's max_bytes is more than the nats-server's JetStream storage can
 * reserve (a long events horizon at a high rate): the server refuses the
 * stream. The limits were asked for, so it is the caller's to change.
 */
export class StreamStorageError extends InvalidArgumentError {
  override readonly code = "ERR_TRANSPORT_STREAM_STORAGE";
  readonly maxBytes: number;
  constructor(message: string, options: StreamStorageOptions) {
    super(message, options);
    this.maxBytes = options.maxBytes;
  }
}

export const isNatsUnreachableError = (e: unknown): e is NatsUnreachableError => e instanceof NatsUnreachableError;
export const isNatsServerMissingError = (e: unknown): e is NatsServerMissingError => e instanceof NatsServerMissingError;
export const isNatsServerStartError = (e: unknown): e is NatsServerStartError => e instanceof NatsServerStartError;
export const isMalformedMessageError = (e: unknown): e is MalformedMessageError => e instanceof MalformedMessageError;
export const isPublisherClosedError = (e: unknown): e is PublisherClosedError => e instanceof PublisherClosedError;
export const isNatsAuthError = (e: unknown): e is NatsAuthError => e instanceof NatsAuthError;
export const isStreamStorageError = (e: unknown): e is StreamStorageError => e instanceof StreamStorageError;
