// The most common failure: a caller passed a value out of range. Shared by
// every module's option checks so messages have one shape: "<property> <what is wrong>".
import { TcptrailError } from "./tcptrail-error.js";

export interface InvalidArgumentOptions extends ErrorOptions {
  /** The option, flag or parameter that was wrong ("tickMs", "--since", "limit"). */
  property: string;
}

/**
 * A value the caller gave is wrong. Modules whose callers want to tell their
 * own option errors apart (the stitcher's, the consumer's, the lab's) subclass
 * it with their own code; everything else throws it as is, so "is this the
 * caller's mistake?" is one guard: isInvalidArgumentError.
 */
export class InvalidArgumentError extends TcptrailError {
  // Typed `string`, not the literal, so subclasses can narrow it to their own code.
  readonly code: string = "ERR_INVALID_ARGUMENT";
  readonly property: string;

  constructor(message: string, options: InvalidArgumentOptions) {
    super(message, options);
    this.property = options.property;
  }

  /**
   * `InvalidArgumentError.format("tickMs", "must be a whole number of ms >= 1")` → "tickMs must be …".
   * Called on a subclass it builds that subclass (`ConsumerOptionsError.format(...)`),
   * so a module's option errors keep their kind without repeating the message shape.
   */
  static format<T extends InvalidArgumentError>(
    this: new (message: string, options: InvalidArgumentOptions) => T,
    property: string,
    message: string,
    options?: ErrorOptions,
  ): T {
    return new this(`${property} ${message}`, { ...options, property });
  }
}

export const isInvalidArgumentError = (e: unknown): e is InvalidArgumentError => e instanceof InvalidArgumentError;
