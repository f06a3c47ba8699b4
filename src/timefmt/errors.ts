// The one failure of the time grammar: a value that is not a time or a
// duration. It names the option or parameter it was given for, so every
// caller (CLI flag, API query parameter, rules-file field) reports it the same
// way without re-wording it.

export class InvalidTimeError extends Error {
  readonly code = "INVALID_TIME" as const;
  constructor(
    /** What the value was given for: "--since", "since", "rate.window". */
    readonly option: string,
    readonly value: string,
    /** Completes "<option> must be …", e.g. "a duration like 5m, 1h30m or 2d". */
    readonly expected: string,
    /** Why this particular value is wrong, when that says more than `expected` ("February 2026 has 28 days"). */
    readonly problem?: string,
  ) {
    super(`${option} must be ${expected}${problem ? `; ${problem}` : ""} (got ${JSON.stringify(value)})`);
    this.name = "InvalidTimeError";
  }
}

export const isInvalidTimeError = (e: unknown): e is InvalidTimeError => e instanceof InvalidTimeError;
