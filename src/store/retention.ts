// Periodic retention for any TraceStore: the consumer starts it next to the
// store so old data goes away without anyone asking.
import { silentLogger, type Logger } from "../log/logger.js";
import { positiveIntervalMs } from "../model/mod.js";
import type { RetentionPolicy, TraceStore } from "./store.js";

export const DEFAULT_RETENTION_INTERVAL_MS = 60_000;

export interface RetentionScheduleOptions extends RetentionPolicy {
  /** Time between runs, whole ms >= 1. Default DEFAULT_RETENTION_INTERVAL_MS (60000). The first run happens at once. */
  intervalMs?: number;
  /** Default: silent. */
  log?: Logger;
}

export interface RetentionSchedule {
  /** Stop future runs and wait for one in progress. */
  stop(): Promise<void>;
}

export function scheduleRetention(store: TraceStore, opts: RetentionScheduleOptions = {}): RetentionSchedule {
  const intervalMs = positiveIntervalMs("retention intervalMs", opts.intervalMs, DEFAULT_RETENTION_INTERVAL_MS);
  const log = opts.log ?? silentLogger;
  const policy: RetentionPolicy = { maxAgeMs: opts.maxAgeMs, maxBytes: opts.maxBytes };
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  const run = (): void => {
    // Runs never overlap: a slow one delays the next instead of stacking up.
    running = running.then(async () => {
      if (stopped) return;
      try {
        await store.retention(policy);
      } catch (err) {
        log.error({ err }, "retention run failed");
      }
    });
  };
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
