// The most common failure: a caller passed a value out of range. Shared by
// every module's option checks so messages have one shape: "<property> <what is wrong>".
import { TcptrailError } from "./tcptrail-error.js";

export interface InvalidArgumentOptions extends ErrorOptions {
  /** The option, flag or parameter that was wrong ("tickMs", "--since", "limit"). */
  property: string;
}

export class InvalidArgumentError extends TcptrailError {
  readonly code = "ERR_INVALID_ARGUMENT";
  readonly property: string;

  constructor(message: string, options: InvalidArgumentOptions) {
    super(message, options);
    this.property = options.property;
  }

  /** `InvalidArgumentError.format("tickMs", "must be a whole number of ms >= 1")` → "tickMs must be …". */
  static format(property: string, message: string, options?: ErrorOptions): InvalidArgumentError {
    return new InvalidArgumentError(`${property} ${message}`, { ...options, property });
  }
}

export const isInvalidArgumentError = (e: unknown): e is InvalidArgumentError => e instanceof InvalidArgumentError;
