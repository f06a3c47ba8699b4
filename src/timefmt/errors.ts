// The one failure of the time grammar: a value that is not a time or a
// duration. It names the option or parameter it was given for (`property`,
// as every InvalidArgumentError does), so every caller (CLI flag, API query
// parameter, rules-file field) reports it the same way without re-wording it.
import { InvalidArgumentError, type InvalidArgumentOptions } from "../errors/mod.js";

export interface InvalidTimeOptions extends InvalidArgumentOptions {
  /** The text that was not a time. */
  value: string;
  /** Completes "<property> must be …", e.g. "a duration like 5m, 1h30m or 2d". */
  expected: string;
  /** Why this particular value is wrong, when that says more than `expected` ("February 2026 has 28 days"). */
  problem?: string | undefined;
}

export class InvalidTimeError extends InvalidArgumentError {
  override readonly code = "ERR_TIMEFMT_INVALID_TIME";
  readonly value: string;
  readonly expected: string;
  readonly problem: string | undefined;

  constructor(message: string, options: InvalidTimeOptions) {
    super(message, options);
    this.value = options.value;
    this.expected = options.expected;
    this.problem = options.problem;
  }

  /** `--since must be <expected>[; <problem>] (got "<value>")`: the grammar's one message shape. */
  static expecting(property: string, value: string, expected: string, problem?: string): InvalidTimeError {
    const message = `${property} must be ${expected}${problem ? `; ${problem}` : ""} (got ${JSON.stringify(value)})`;
    return new InvalidTimeError(message, { property, value, expected, problem });
  }
}

export const isInvalidTimeError = (e: unknown): e is InvalidTimeError => e instanceof InvalidTimeError;
