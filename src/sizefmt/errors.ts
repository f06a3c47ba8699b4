// The one failure of the size grammar: a value that is not a size. Like the
// time grammar's InvalidTimeError it names the option it was given for, so a
// CLI flag and any other caller report it the same way.
import { InvalidArgumentError, type InvalidArgumentOptions } from "../errors/mod.js";

export interface InvalidSizeOptions extends InvalidArgumentOptions {
  /** The text that was not a size. */
  value: string;
}

export class InvalidSizeError extends InvalidArgumentError {
  override readonly code = "ERR_SIZEFMT_INVALID_SIZE";
  readonly value: string;

  constructor(message: string, options: InvalidSizeOptions) {
    super(message, options);
    this.value = options.value;
  }

  /** `--traces-max-size must be <expected> (got "<value>")`: the grammar's one message shape. */
  static expecting(property: string, value: string, expected: string): InvalidSizeError {
    return new InvalidSizeError(`${property} must be ${expected} (got ${JSON.stringify(value)})`, { property, value });
  }
}

export const isInvalidSizeError = (e: unknown): e is InvalidSizeError => e instanceof InvalidSizeError;
