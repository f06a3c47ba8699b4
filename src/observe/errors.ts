// Usage errors of `tcptrail observe`: the CLI turns these into exit code 2,
// like every InvalidArgumentError. (A bad --since is the time grammar's
// InvalidTimeError, src/timefmt.)
import { InvalidArgumentError, type InvalidArgumentOptions } from "../errors/mod.js";

export interface InvalidFilterOptions extends InvalidArgumentOptions {
  /** The value given for the filter flag (`property`). */
  value: string;
}

/** A filter flag's value that matches nothing by construction (--port 0, --kind bogus). */
export class InvalidFilterError extends InvalidArgumentError {
  override readonly code = "ERR_OBSERVE_INVALID_FILTER";
  readonly value: string;
  constructor(message: string, options: InvalidFilterOptions) {
    super(message, options);
    this.value = options.value;
  }

  /** `invalid --port "0": expected 1-65535`. */
  static invalid(flag: string, value: string, hint: string): InvalidFilterError {
    return new InvalidFilterError(`invalid ${flag} "${value}": ${hint}`, { property: flag, value });
  }
}

export const isInvalidFilterError = (e: unknown): e is InvalidFilterError => e instanceof InvalidFilterError;
