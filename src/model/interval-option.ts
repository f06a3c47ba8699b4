// Timer periods given as options. Node's setInterval/setTimeout quietly turn
// 0, a negative, NaN or anything past 2^31-1 ms into 1 ms: a busy loop that
// looks like a setting. So every interval option passes through here once,
// where its module merges the caller's options with its DEFAULT_* constants.

/** Longest delay Node's timers honour (2^31-1 ms, about 24.8 days); past it they fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Builds the module's own error for an invalid option (default: RangeError). */
export type InvalidOptionError = (message: string) => Error;

const rangeError: InvalidOptionError = (message) => new RangeError(message);

/**
 * `value` when it is a whole number of milliseconds a timer honours (1 to
 * MAX_TIMER_MS), `fallback` when it is not given; anything else throws
 * `invalid(message)`, the message naming the option.
 */
export function positiveIntervalMs(
  name: string,
  value: number | null | undefined,
  fallback: number,
  invalid: InvalidOptionError = rangeError,
): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_TIMER_MS) {
    throw invalid(`${name} must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${String(value)}`);
  }
  return value;
}
