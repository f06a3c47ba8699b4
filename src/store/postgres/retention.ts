// Deleting old data, each kind by its own limits (age, then size), oldest
// first, and how much each kind takes (stats). A kind's bytes are its bodies
// plus a per-row estimate of what the row costs beyond its body (columns,
// index entries, a trace's endpoint rows): the same count retention cuts by
// and stats() reports, so "fits maxBytes" means one thing. The server's own
// files shrink when autovacuum reuses the space; this is a limit on live
// data, not on the cluster's disk use.
import type { Logger } from "../../log/logger.js";
import { DEFAULT_EVENTS_MAX_AGE_MS, DEFAULT_EVENTS_MAX_BYTES, DEFAULT_MAX_AGE_MS, DEFAULT_MAX_BYTES } from "../sqlite/options.js";
import { EVENTS_HORIZON_KEY } from "../sqlite/event-retention.js";
import type { KindStats, RetentionPolicy, RetentionResult, StoreStats } from "../store.js";
import type { PgConnection } from "./connection.js";

/**
 * A trace row beyond its body: its columns and four index entries (~150 B),
 * and six hop endpoint rows of a three-hop trace with their five index
 * entries (~6 × 180 B). An estimate from the row layouts, not a measurement.
 */
export const TRACE_ROW_OVERHEAD_BYTES = 1200;
/** An event row beyond its body: columns, tuple header, four index entries. An estimate from the row layout. */
export const EVENT_ROW_OVERHEAD_BYTES = 300;

const TRACE_TOTALS = `SELECT count(*) AS n, coalesce(sum(octet_length(body)), 0) AS body, min(start_us) AS oldest FROM traces`;
const EVENT_TOTALS = `SELECT count(*) AS n, coalesce(sum(octet_length(body)), 0) AS body, min(time_us) AS oldest FROM events`;
const DELETE_OLD_TRACES = `DELETE FROM traces WHERE last_us < $1`;
// The oldest traces whose bytes add up to at least the excess: the shortest prefix that brings the kind under its limit.
const DELETE_OLDEST_TRACES = `WITH o AS (
    SELECT trace_id, octet_length(body) + $2 AS b, sum(octet_length(body) + $2) OVER (ORDER BY last_us, trace_id) AS cum FROM traces)
  DELETE FROM traces WHERE trace_id IN (SELECT trace_id FROM o WHERE cum - b < $1)`;
const DELETE_OLD_EVENTS = `WITH d AS (DELETE FROM events WHERE time_us < $1 RETURNING time_us) SELECT count(*) AS n, max(time_us) AS last FROM d`;
const DELETE_OLDEST_EVENTS = `WITH o AS (
    SELECT stream_id, seq, octet_length(body) + $2 AS b,
           sum(octet_length(body) + $2) OVER (ORDER BY time_us, stream_id, seq) AS cum FROM events),
  d AS (DELETE FROM events ev USING o WHERE ev.stream_id = o.stream_id AND ev.seq = o.seq AND o.cum - o.b < $1 RETURNING ev.time_us)
  SELECT count(*) AS n, max(time_us) AS last FROM d`;
const SET_HORIZON = `INSERT INTO meta (key, value) VALUES ($1, $2)
  ON CONFLICT (key) DO UPDATE SET value = greatest(meta.value::bigint, excluded.value::bigint)::text`;
const RELATION_BYTES = `SELECT coalesce(sum(pg_total_relation_size(c::regclass)), 0) AS bytes
  FROM unnest(ARRAY['streams', 'events', 'traces', 'trace_endpoints', 'meta']) AS c`;
const DATABASE_BYTES = `SELECT pg_database_size(current_database()) AS bytes`;

export async function traceKindStats(db: PgConnection): Promise<KindStats> {
  const t = (await db.query<{ n: number; body: number | string; oldest: number | null }>(TRACE_TOTALS))[0]!;
  return { count: t.n, bytes: Number(t.body) + t.n * TRACE_ROW_OVERHEAD_BYTES, oldestUs: t.oldest };
}

export async function eventKindStats(db: PgConnection): Promise<KindStats> {
  const t = (await db.query<{ n: number; body: number | string; oldest: number | null }>(EVENT_TOTALS))[0]!;
  return { count: t.n, bytes: Number(t.body) + t.n * EVENT_ROW_OVERHEAD_BYTES, oldestUs: t.oldest };
}

/** Bytes of the store's tables and their indexes (live and not yet vacuumed pages alike). */
async function relationBytes(db: PgConnection): Promise<number> {
  return Number((await db.query<{ bytes: number | string }>(RELATION_BYTES))[0]!.bytes);
}

export async function storeStats(db: PgConnection): Promise<StoreStats> {
  const [traces, events, bytes, file] = await Promise.all([
    traceKindStats(db),
    eventKindStats(db),
    relationBytes(db),
    db.query<{ bytes: number | string }>(DATABASE_BYTES),
  ]);
  return { traces: traces.count, events: events.count, bytes, fileBytes: Number(file[0]!.bytes), kinds: { traces, events } };
}

export async function applyRetention(db: PgConnection, policy: RetentionPolicy, log: Logger, nowMs = Date.now()): Promise<RetentionResult> {
  const maxAgeMs = policy.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const maxBytes = policy.maxBytes ?? DEFAULT_MAX_BYTES;
  const eventsMaxAgeMs = policy.eventsMaxAgeMs ?? DEFAULT_EVENTS_MAX_AGE_MS;
  const eventsMaxBytes = policy.eventsMaxBytes ?? DEFAULT_EVENTS_MAX_BYTES;

  let deletedTraces = await db.transaction(async (c) => (await c.query(DELETE_OLD_TRACES, [(nowMs - maxAgeMs) * 1000])).rowCount ?? 0);
  const traceExcess = (await traceKindStats(db)).bytes - maxBytes;
  if (traceExcess > 0) {
    deletedTraces += await db.transaction(async (c) => (await c.query(DELETE_OLDEST_TRACES, [traceExcess, TRACE_ROW_OVERHEAD_BYTES])).rowCount ?? 0);
  }

  // Events: one transaction, so a reader sees the rows and the horizon (how
  // far raw events were cut, what timelines rebuild before) agree.
  const deletedEvents = await db.transaction(async (c) => {
    let horizon: number | null = null;
    const aged = (await c.query<{ n: number; last: number | null }>(DELETE_OLD_EVENTS, [(nowMs - eventsMaxAgeMs) * 1000])).rows[0]!;
    let deleted = aged.n;
    horizon = aged.last;
    const t = (await c.query<{ n: number; body: number | string }>(EVENT_TOTALS)).rows[0]!;
    const excess = Number(t.body) + t.n * EVENT_ROW_OVERHEAD_BYTES - eventsMaxBytes;
    if (excess > 0) {
      const cut = (await c.query<{ n: number; last: number | null }>(DELETE_OLDEST_EVENTS, [excess, EVENT_ROW_OVERHEAD_BYTES])).rows[0]!;
      deleted += cut.n;
      if (cut.last !== null) horizon = Math.max(horizon ?? 0, cut.last);
    }
    if (horizon !== null) await c.query(SET_HORIZON, [EVENTS_HORIZON_KEY, String(horizon)]);
    return deleted;
  });
  const bytes = await relationBytes(db);
  if (deletedTraces + deletedEvents > 0) log.info({ deletedTraces, deletedEvents, bytes }, "retention deleted old traces and events");
  return { deletedTraces, deletedEvents, bytes };
}
