// After a churn the tracer still has work queued (bpftrace's buffer, the
// reorder window, the publish queue, the consumer): its counters are read
// once they stop growing, not after a guessed pause that is too short at
// 40k conns/s and wasted at 5k.
import type { MetricSamples } from "./prometheus-text.js";
import { sample } from "./prometheus-text.js";

/** tcptrail adds its counters to /metrics once a second: a quiet window must span a few of those. */
export const DEFAULT_SETTLE_QUIET_MS = 2500;
export const DEFAULT_SETTLE_INTERVAL_MS = 250;
/** Give up after this long and report the counters as they are, marked unsettled. */
export const DEFAULT_SETTLE_TIMEOUT_MS = 120_000;
/**
 * Growth still counted as quiet over one window: the probes see every TCP
 * connection on the machine, and other programs' connections must not keep
 * a finished run from settling.
 */
export const DEFAULT_SETTLE_TOLERANCE = 100;

export interface SettleOptions {
  /** The series that must stop growing. */
  series: readonly string[];
  quietMs?: number;
  intervalMs?: number;
  timeoutMs?: number;
  tolerance?: number;
}

export interface Settled {
  /** The last scrape. */
  samples: MetricSamples;
  /** False when timeoutMs passed with the counters still growing. */
  settled: boolean;
  /** From the call to the last scrape, ms. */
  waitedMs: number;
  /** From the call to the last scrape that saw a series grow (0 if none did): how long the work took to drain, ms. */
  grewUntilMs: number;
}

/**
 * Scrape until every series has grown by at most `tolerance` for `quietMs`,
 * over at least quietMs / intervalMs scrapes: a tracer whose event loop
 * stalls answers one slow scrape with counters from before the stall, which
 * alone would span the window and look quiet (seen with `tcptrail run`: a
 * 7 s scrape, then the counters moved on). A scrape error fails at once: a
 * tracer that died is not a settled one.
 */
export async function settle(scrape: () => Promise<MetricSamples>, o: SettleOptions): Promise<Settled> {
  const quietMs = o.quietMs ?? DEFAULT_SETTLE_QUIET_MS;
  const intervalMs = o.intervalMs ?? DEFAULT_SETTLE_INTERVAL_MS;
  const timeoutMs = o.timeoutMs ?? DEFAULT_SETTLE_TIMEOUT_MS;
  const tolerance = o.tolerance ?? DEFAULT_SETTLE_TOLERANCE;
  const t0 = performance.now();
  let samples = await scrape();
  // The quiet window starts at the last scrape that saw a series move by more than the tolerance.
  let anchor = { at: t0, samples };
  const quietScrapesNeeded = Math.max(1, Math.ceil(quietMs / Math.max(intervalMs, 1)));
  let quietScrapes = 0;
  for (;;) {
    const now = performance.now();
    const grewUntilMs = anchor.at === t0 ? 0 : anchor.at - t0;
    if (now - anchor.at >= quietMs && quietScrapes >= quietScrapesNeeded) return { samples, settled: true, waitedMs: now - t0, grewUntilMs };
    if (now - t0 >= timeoutMs) return { samples, settled: false, waitedMs: now - t0, grewUntilMs };
    await new Promise((r) => setTimeout(r, intervalMs));
    samples = await scrape();
    const moved = o.series.some((s) => sample(samples, s) - sample(anchor.samples, s) > tolerance);
    if (moved) {
      anchor = { at: performance.now(), samples };
      quietScrapes = 0;
    } else {
      quietScrapes++;
    }
  }
}
