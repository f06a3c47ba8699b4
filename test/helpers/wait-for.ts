// The one way tests wait: poll a condition until it holds, then go on at once.
// A fixed sleep is either too short on a loaded machine (flaky) or too long
// everywhere else (slow), and when it fails it cannot say what was missing;
// this fails with the name of what it waited for.

export const DEFAULT_WAIT_TIMEOUT_MS = 15_000;
export const DEFAULT_WAIT_INTERVAL_MS = 25;

export interface WaitForOptions {
  /** What is awaited, in words: a timeout says "timed out after N ms waiting for <what>". */
  what: string;
  /** Give up after this long, ms. Default DEFAULT_WAIT_TIMEOUT_MS (15 s, under vitest's 60 s test timeout). */
  timeoutMs?: number;
  /** Pause between two checks, ms. Default DEFAULT_WAIT_INTERVAL_MS. */
  intervalMs?: number;
}

/** What a condition returns while it does not hold yet. */
export type NotYet = undefined | null | false;

export class WaitTimeoutError extends Error {
  readonly code = "WAIT_TIMEOUT";
  readonly what: string;
  readonly timeoutMs: number;

  constructor(what: string, timeoutMs: number, options?: ErrorOptions) {
    super(`timed out after ${timeoutMs} ms waiting for ${what}`, options);
    this.name = "WaitTimeoutError";
    this.what = what;
    this.timeoutMs = timeoutMs;
  }
}

export function isWaitTimeoutError(e: unknown): e is WaitTimeoutError {
  return e instanceof WaitTimeoutError;
}

function checkDuration(name: string, v: number): void {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`waitFor: ${name} must be a finite number >= 0, got ${v}`);
}

/**
 * Resolve with the first value of `condition` that is not undefined, null or
 * false: `() => stats().n === 3` waits for a fact, `() => events.find(...)`
 * waits for a thing and returns it. An exception from `condition` fails the
 * wait at once (a broken check should not look like a slow one).
 * @throws WaitTimeoutError when `timeoutMs` passes first, also when one check hangs.
 */
export async function waitFor<T>(condition: () => T | NotYet | Promise<T | NotYet>, opts: WaitForOptions): Promise<Exclude<T, NotYet>> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
  const intervalMs = opts.intervalMs ?? DEFAULT_WAIT_INTERVAL_MS;
  checkDuration("timeoutMs", timeoutMs);
  checkDuration("intervalMs", intervalMs);
  // performance.now(): a wall-clock step must not stretch or cut the wait.
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await beforeDeadline(condition, deadline - performance.now(), () => new WaitTimeoutError(opts.what, timeoutMs));
    if (value !== undefined && value !== null && value !== false) return value as Exclude<T, NotYet>;
    const left = deadline - performance.now();
    if (left <= 0) throw new WaitTimeoutError(opts.what, timeoutMs);
    await new Promise((r) => setTimeout(r, Math.min(intervalMs, left)));
  }
}

/** One check, raced against the time left: a check that never settles must not outlive the deadline. */
function beforeDeadline<V>(check: () => V | Promise<V>, leftMs: number, timeout: () => Error): Promise<V> {
  return new Promise<V>((resolve, reject) => {
    // A synchronous check settles in a microtask, before even a 0 ms timer fires.
    const timer = setTimeout(() => reject(timeout()), Math.max(leftMs, 0));
    Promise.resolve()
      .then(check)
      .then(resolve, reject)
      .finally(() => clearTimeout(timer));
  });
}
