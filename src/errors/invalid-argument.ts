// The most common failure: a caller passed a value out of range. Shared by
// every module's option checks so messages have one shape: "<property> <what is wrong>".
import { TcptrailError } from "./tcptrail-error.js";

export class InvalidArgumentError extends TcptrailError {
  readonly code = "ERR_INVALID_ARGUMENT";
  /** The option, flag or parameter that was wrong ("tickMs", "--since", "limit"). */
  readonly property: string;

  constructor(property: string, message: string, options?: ErrorOptions) {
    super(`${property} ${message}`, options);
    this.property = property;
  }
}

export const isInvalidArgumentError = (e: unknown): e is InvalidArgumentError => e instanceof InvalidArgumentError;
