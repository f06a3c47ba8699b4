// The raw-event ring's limits: whole batch rows go, oldest first, by age and
// then by size, so what is freed is freed at once and the ring never holds
// half a batch. What was cut is remembered as the ring's horizon: a timeline
// older than it rebuilds the lost events from the trace (hop-summary.ts)
// instead of showing nothing, and one newer than it never does.
import type { KindStats, RetentionPolicy } from "../store.js";
import { ROW_OVERHEAD_BYTES } from "./event-rows.js";
import { getMeta } from "./meta.js";
import { DEFAULT_EVENTS_MAX_AGE_MS, DEFAULT_EVENTS_MAX_BYTES } from "./options.js";
import type { PreparedStatements } from "./statements.js";

/** Meta key: wall µs up to which retention has deleted raw events (the latest last_us it deleted). */
export const EVENTS_HORIZON_KEY = "store.events_horizon_us";

// Rows examined per step of the size cut: the oldest rows are read in pages,
// never the whole ring at once.
const SIZE_PAGE = 1000;

const KIND_TOTALS = `SELECT count(*) AS rows, coalesce(sum(count), 0) AS events,
       coalesce(sum(length(filter) + length(body)), 0) AS body_bytes FROM event_batches`;
const OLDEST_US = `SELECT min(first_us) AS us FROM event_batches`;
const AGED = `SELECT count(*) AS rows, coalesce(sum(count), 0) AS events, max(last_us) AS last_us
       FROM event_batches WHERE last_us < ?`;
const DELETE_AGED = `DELETE FROM event_batches WHERE last_us < ?`;
const OLDEST_ROWS = `SELECT id, last_us, count, length(filter) + length(body) AS body_bytes FROM event_batches
       WHERE last_us > @us OR (last_us = @us AND id > @id) ORDER BY last_us, id LIMIT @limit`;
const DELETE_UP_TO = `DELETE FROM event_batches WHERE last_us < @us OR (last_us = @us AND id <= @id)`;
const SET_HORIZON = `INSERT INTO meta (key, value) VALUES (@key, @us)
       ON CONFLICT (key) DO UPDATE SET value = max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER))`;

export interface EventRetentionPolicy {
  eventsMaxAgeMs?: number;
  eventsMaxBytes?: number;
}

/**
 * Delete rows whose newest event is older than eventsMaxAgeMs, then the
 * oldest rows until the ring's bytes (bodies and filters plus
 * ROW_OVERHEAD_BYTES a row, see eventKindStats) fit eventsMaxBytes. One transaction: a reader sees the
 * ring before or after, never a horizon that does not match it.
 * @returns how many events (not rows) were deleted
 */
export function eventRetention(
  statements: PreparedStatements,
  policy: Pick<RetentionPolicy, "eventsMaxAgeMs" | "eventsMaxBytes"> = {},
  nowUs = Date.now() * 1000,
): { deleted: number } {
  const maxAgeMs = policy.eventsMaxAgeMs ?? DEFAULT_EVENTS_MAX_AGE_MS;
  const maxBytes = policy.eventsMaxBytes ?? DEFAULT_EVENTS_MAX_BYTES;
  return statements.db.transaction(() => {
    let deleted = 0;
    let horizon: number | null = null;
    const cutoff = nowUs - maxAgeMs * 1000;
    const aged = statements.get(AGED).get(cutoff) as { rows: number; events: number; last_us: number | null };
    if (aged.rows > 0) {
      statements.get(DELETE_AGED).run(cutoff);
      deleted += aged.events;
      horizon = aged.last_us;
    }
    let excess = ringBytes(statements) - maxBytes;
    let key = { us: -Number.MAX_SAFE_INTEGER, id: -1 };
    while (excess > 0) {
      const rows = statements.get(OLDEST_ROWS).all({ ...key, limit: SIZE_PAGE }) as {
        id: number;
        last_us: number;
        count: number;
        body_bytes: number;
      }[];
      if (rows.length === 0) break;
      for (const r of rows) {
        excess -= r.body_bytes + ROW_OVERHEAD_BYTES;
        deleted += r.count;
        key = { us: r.last_us, id: r.id };
        if (excess <= 0) break;
      }
      statements.get(DELETE_UP_TO).run(key);
      horizon = Math.max(horizon ?? 0, key.us);
    }
    if (horizon !== null) statements.get(SET_HORIZON).run({ key: EVENTS_HORIZON_KEY, us: String(horizon) });
    return { deleted };
  })();
}

/** Bytes the ring takes: its bodies, filters and ROW_OVERHEAD_BYTES per row (columns and index entries). */
function ringBytes(statements: PreparedStatements): number {
  const t = statements.get(KIND_TOTALS).get() as { rows: number; body_bytes: number };
  return t.body_bytes + t.rows * ROW_OVERHEAD_BYTES;
}

/** The ring as stats() reports it: events (not rows), bytes as retention measures them, the oldest event's time. */
export function eventKindStats(statements: PreparedStatements): KindStats {
  const t = statements.get(KIND_TOTALS).get() as { rows: number; events: number; body_bytes: number };
  const oldest = statements.get(OLDEST_US).get() as { us: number | null };
  return { count: t.events, bytes: t.body_bytes + t.rows * ROW_OVERHEAD_BYTES, oldestUs: oldest.us };
}

/** Wall µs up to which raw events may have been deleted; 0 when retention never deleted any. */
export function eventsHorizonUs(statements: PreparedStatements): number {
  const v = getMeta(statements, EVENTS_HORIZON_KEY);
  const n = v === null ? 0 : Number(v);
  return Number.isSafeInteger(n) ? n : 0;
}
