// Periodic retention for any TraceStore: the consumer starts it next to the
// store so old data goes away without anyone asking. After each run it reads
// the store's stats and hands them on (the /metrics gauges), so how far back
// each kind reaches is visible without anyone querying the store.
import { silentLogger, type Logger } from "../log/logger.js";
import { positiveIntervalMs } from "../model/mod.js";
import type { RetentionPolicy, StoreStats, TraceStore } from "./store.js";

/**
 * 10 s: the file may exceed its limits by what is written between two runs
 * (src/store/sqlite/retention.ts states the margin), so a short interval is
 * a tight bound; a run over limits that hold costs a few ms. At 60 s a soak
 * at 1,000 conns/s with 4 MiB + 16 MiB limits peaked at 45 MiB.
 */
export const DEFAULT_RETENTION_INTERVAL_MS = 10_000;

export interface RetentionScheduleOptions extends RetentionPolicy {
  /** Time between runs, whole ms >= 1. Default DEFAULT_RETENTION_INTERVAL_MS (10000). The first run happens at once. */
  intervalMs?: number;
  /**
   * Called with the store's stats at start (before the first run, which may
   * take a while on a big store) and after every run. A failing stats() or
   * callback is logged and retention goes on. Default: none.
   */
  onStats?: (stats: StoreStats) => void;
  /** Default: silent. */
  log?: Logger;
}

export interface RetentionSchedule {
  /** Stop future runs and wait for one in progress. */
  stop(): Promise<void>;
}

/** The policy part of the options: every limit given, none of the schedule's own settings. */
function policyOf(opts: RetentionScheduleOptions): RetentionPolicy {
  const { maxAgeMs, maxBytes, eventsMaxAgeMs, eventsMaxBytes } = opts;
  return { maxAgeMs, maxBytes, eventsMaxAgeMs, eventsMaxBytes };
}

export function scheduleRetention(store: TraceStore, opts: RetentionScheduleOptions = {}): RetentionSchedule {
  const intervalMs = positiveIntervalMs("retention intervalMs", opts.intervalMs, DEFAULT_RETENTION_INTERVAL_MS);
  const log = opts.log ?? silentLogger;
  const policy = policyOf(opts);
  const { onStats } = opts;
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const report = async (): Promise<void> => {
    if (!onStats || stopped) return;
    try {
      onStats(await store.stats());
    } catch (err) {
      log.warn({ err }, "reading the store's stats failed");
    }
  };
  const run = (): void => {
    // Runs never overlap: a slow one delays the next instead of stacking up.
    running = running.then(async () => {
      if (stopped) return;
      try {
        await store.retention(policy);
      } catch (err) {
        log.error({ err }, "retention run failed");
      }
      await report();
    });
  };
  running = report();
  run();
  const timer = setInterval(run, intervalMs);
  // Retention alone must not keep the process alive.
  timer.unref();
  return {
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
