// Timer periods given as options. Node's setInterval/setTimeout quietly turn
// 0, a negative, NaN or anything past 2^31-1 ms into 1 ms: a busy loop that
// looks like a setting. So every interval option passes through here once,
// where its module merges the caller's options with its DEFAULT_* constants.
import { InvalidArgumentError, type InvalidArgumentOptions } from "../errors/mod.js";

/** Longest delay Node's timers honour (2^31-1 ms, about 24.8 days); past it they fire after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The error class a module reports its invalid options with: InvalidArgumentError
 * itself, or the module's subclass of it (ConsumerOptionsError) so its callers'
 * guard still recognises the failure.
 */
export type InvalidOptionError = new (message: string, options: InvalidArgumentOptions) => InvalidArgumentError;

/**
 * `value` when it is a whole number of milliseconds a timer honours (1 to
 * MAX_TIMER_MS), `fallback` when it is not given; anything else throws
 * `ErrorClass` (default InvalidArgumentError) naming the option.
 */
export function positiveIntervalMs(
  name: string,
  value: number | null | undefined,
  fallback: number,
  ErrorClass: InvalidOptionError = InvalidArgumentError,
): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > MAX_TIMER_MS) {
    throw new ErrorClass(`${name} must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${String(value)}`, { property: name });
  }
  return value;
}
