// Deleting old data, each kind by its own limits (age, then size), oldest
// first and whole blocks or batches at a time; then handing the freed pages
// back to the file system and truncating the WAL, so the limits are ones on
// disk use, not only on rows.
//
// How far the file may exceed maxBytes + eventsMaxBytes: each kind counts
// its bytes as its rows and an estimate of their index entries and page
// slack (for the ring ROW_OVERHEAD_BYTES, measured), so right after a run the
// file is within those limits plus (1) what the estimates miss (a few % of
// the limits), (2) the schema, streams and meta (a few pages), and (3) a WAL
// the checkpoint could not truncate because a reader held it (until the
// reader finishes; otherwise at most the 4 MB auto-checkpoint size). Between
// two runs it grows by what is written in one interval (10 s by default,
// DEFAULT_RETENTION_INTERVAL_MS: at 1,000 conns/s ~2.7 MB, at 240k events/s
// ~45 MB of ring), which the next run removes. Stated margin: 5% of the
// limits + 8 MB + one interval of writes.
import type { Logger } from "../../log/logger.js";
import type { RetentionPolicy, RetentionResult } from "../store.js";
import { eventRetention } from "./event-retention.js";
import type { PreparedStatements } from "./statements.js";
import { usedBytes } from "./stats.js";
import { traceRetention } from "./trace-kind.js";

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
  const deletedTraces = traceRetention(statements, { maxAgeMs: policy.maxAgeMs, maxBytes: policy.maxBytes }).deleted;
  const deletedEvents = eventRetention(statements, { eventsMaxAgeMs: policy.eventsMaxAgeMs, eventsMaxBytes: policy.eventsMaxBytes }).deleted;
  db.pragma("incremental_vacuum");
  if (path !== ":memory:") db.pragma("wal_checkpoint(TRUNCATE)");
  const bytes = usedBytes(statements);
  if (deletedTraces + deletedEvents > 0) {
    log.info({ deletedTraces, deletedEvents, bytes }, "retention deleted old traces and events");
  }
  return { deletedTraces, deletedEvents, bytes };
}
