// Deleting old data, by age and by size, oldest first; then handing the freed
// pages back to the file system and truncating the WAL, so the limit is one
// on disk use, not only on rows.
import type { Logger } from "../../log/logger.js";
import type { RetentionPolicy, RetentionResult } from "../store.js";
import { DEFAULT_MAX_AGE_MS, DEFAULT_MAX_BYTES } from "./options.js";
import type { PreparedStatements } from "./statements.js";
import { rowCounts, usedBytes } from "./stats.js";
import { FOREVER_US } from "./time-columns.js";

// Size rounds are bounded: a pathological file whose pages never shrink must not loop forever.
const MAX_SIZE_ROUNDS = 64;

const OLDEST_TRACE = `SELECT min(last_us) AS last_us FROM traces`;
const DELETE_HOPS_BEFORE = `DELETE FROM hops WHERE trace_id IN (SELECT trace_id FROM traces WHERE last_us < ?)`;
const DELETE_TRACES_BEFORE = `DELETE FROM traces WHERE last_us < ?`;
const DELETE_EVENTS_BEFORE = `DELETE FROM events WHERE time_us < ?`;
const DELETE_SOCKETS_BEFORE = `DELETE FROM sockets WHERE last_us < ?`;
const DELETE_OLDEST_HOPS = `DELETE FROM hops WHERE trace_id IN (SELECT trace_id FROM traces ORDER BY last_us LIMIT ?)`;
const DELETE_OLDEST_TRACES = `DELETE FROM traces WHERE trace_id IN (SELECT trace_id FROM traces ORDER BY last_us LIMIT ?)`;
const DELETE_OLDEST_EVENTS = `DELETE FROM events WHERE (stream_id, seq) IN (SELECT stream_id, seq FROM events ORDER BY time_us LIMIT ?)`;

export interface RetentionContext {
  /** The database file: an in-memory database has no WAL to checkpoint. */
  path: string;
  log: Logger;
}

export function applyRetention(
  statements: PreparedStatements,
  policy: RetentionPolicy,
  { path, log }: RetentionContext,
): RetentionResult {
  const { db } = statements;
  const maxAgeMs = policy.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const maxBytes = policy.maxBytes ?? DEFAULT_MAX_BYTES;
  let deletedTraces = 0;
  let deletedEvents = 0;
  const cutoff = Date.now() * 1000 - maxAgeMs * 1000;
  db.transaction(() => {
    statements.get(DELETE_HOPS_BEFORE).run(cutoff);
    deletedTraces += statements.get(DELETE_TRACES_BEFORE).run(cutoff).changes;
    deletedEvents += statements.get(DELETE_EVENTS_BEFORE).run(cutoff).changes;
    statements.get(DELETE_SOCKETS_BEFORE).run(cutoff);
  })();
  // Size: drop the same oldest fraction of each table until the live pages
  // fit. Rows are not uniform in size, so this iterates; each round removes
  // at least one row or stops.
  for (let round = 0; round < MAX_SIZE_ROUNDS; round++) {
    const bytes = usedBytes(statements);
    if (bytes <= maxBytes) break;
    const fraction = Math.min(1, (bytes - maxBytes) / bytes + 0.01);
    const { traces, events } = rowCounts(statements);
    if (traces + events === 0) break;
    db.transaction(() => {
      const nt = Math.ceil(traces * fraction);
      const ne = Math.ceil(events * fraction);
      statements.get(DELETE_OLDEST_HOPS).run(nt);
      deletedTraces += statements.get(DELETE_OLDEST_TRACES).run(nt).changes;
      deletedEvents += statements.get(DELETE_OLDEST_EVENTS).run(ne).changes;
      // Sockets are kept as long as a trace that may name them.
      const oldest = statements.get(OLDEST_TRACE).get() as { last_us: number | null };
      statements.get(DELETE_SOCKETS_BEFORE).run(oldest.last_us ?? FOREVER_US);
    })();
  }
  db.pragma("incremental_vacuum");
  if (path !== ":memory:") db.pragma("wal_checkpoint(TRUNCATE)");
  const bytes = usedBytes(statements);
  if (deletedTraces + deletedEvents > 0) {
    log.info({ deletedTraces, deletedEvents, bytes }, "retention deleted old traces and events");
  }
  return { deletedTraces, deletedEvents, bytes };
}
