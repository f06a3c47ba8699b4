// The capacity sweep's options: a flag wins over its environment variable,
// which wins over the default; a bad value fails before anything starts.
import { DEFAULT_CHURN_ACCEPTORS, DEFAULT_CHURN_DIALERS } from "./paced-churn.js";

/** Offered connections/s, one run each: a busy node's range, up to past what 0.17 keeps up with. */
export const DEFAULT_SWEEP_RATES: readonly number[] = [5_000, 10_000, 20_000, 40_000];
export const DEFAULT_SWEEP_SECONDS = 5;

export const SWEEP_ENV = {
  rates: "TCPTRAIL_BENCH_RATES",
  seconds: "TCPTRAIL_BENCH_SECONDS",
  dialers: "TCPTRAIL_BENCH_DIALERS",
  acceptors: "TCPTRAIL_BENCH_ACCEPTORS",
  "churn-uid": "TCPTRAIL_BENCH_CHURN_UID",
} as const;

export interface SweepOptions {
  rates: number[];
  /** Seconds per rate, and of each full-speed run. */
  seconds: number;
  dialers: number;
  acceptors: number;
  /**
   * Run the churn as this UID, and pass it to the tracers as the sidecar UID:
   * the socket-link probes' worst case, every send and receive passing their
   * filter. Also measures their cost side by side (sweep-link-cost.ts).
   * Default: the churn runs as the caller, links as the tracers' default.
   */
  churnUid?: number;
}

/** A rate: a positive whole number, "k" for thousands (`5k`, `2.5k`). */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(k?)\s*$/i.exec(text);
  const n = m ? Number(m[1]) * (m[2] ? 1000 : 1) : NaN;
  if (!Number.isInteger(n) || n < 1) throw new Error(`a rate is a whole number of connections/s >= 1 (5000 or 5k), got "${text}"`);
  return n;
}

export function parseRates(text: string): number[] {
  const rates = text.split(",").filter((s) => s.trim() !== "").map(parseRate);
  if (rates.length === 0) throw new Error(`no rates in "${text}"`);
  return rates;
}

function parseNumber(name: string, text: string, min: number, max: number, integer: boolean): number {
  const n = Number(text);
  if (text.trim() === "" || !Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n))) {
    throw new Error(`${name} must be ${integer ? "a whole number" : "a number"} between ${min} and ${max}, got "${text}"`);
  }
  return n;
}

/** Options from `--rates --seconds --dialers --acceptors --churn-uid`, else SWEEP_ENV, else the defaults. */
export function sweepOptions(flags: ReadonlyMap<string, string>, env: NodeJS.ProcessEnv = process.env): SweepOptions {
  const pick = (key: keyof typeof SWEEP_ENV) => flags.get(key) ?? env[SWEEP_ENV[key]];
  const rates = pick("rates");
  const seconds = pick("seconds");
  const dialers = pick("dialers");
  const acceptors = pick("acceptors");
  const churnUid = pick("churn-uid");
  return {
    rates: rates !== undefined ? parseRates(rates) : [...DEFAULT_SWEEP_RATES],
    // Whole seconds are what the churn reports per second; fractions are allowed for smoke runs.
    seconds: seconds !== undefined ? parseNumber("seconds", seconds, 0.1, 3600, false) : DEFAULT_SWEEP_SECONDS,
    dialers: dialers !== undefined ? parseNumber("dialers", dialers, 1, 64, true) : DEFAULT_CHURN_DIALERS,
    acceptors: acceptors !== undefined ? parseNumber("acceptors", acceptors, 1, 64, true) : DEFAULT_CHURN_ACCEPTORS,
    // Not 0: root's sends are what every other run already measures, and 0 turns links off.
    ...(churnUid !== undefined ? { churnUid: parseNumber("churn-uid", churnUid, 1, 2 ** 32 - 2, true) } : {}),
  };
}
