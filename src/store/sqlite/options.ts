// How a SqliteTraceStore is opened, and the defaults of what its methods
// accept, in one place: every module of the store reads its default from
// here, so a default is stated (and documented) once.
import { join } from "node:path";
import { InvalidArgumentError } from "../../errors/mod.js";
import { silentLogger, type Logger } from "../../log/logger.js";
import { positiveIntervalMs } from "../../model/mod.js";

/** How long a statement waits for a lock held by another connection (the API's reader, the consumer's writer), ms. */
export const DEFAULT_BUSY_TIMEOUT_MS = 5000;
/** RetentionPolicy.maxAgeMs: 24 h. */
export const DEFAULT_MAX_AGE_MS = 24 * 3600 * 1000;
/**
 * RetentionPolicy.maxBytes: 8 GiB. Sized from measured bytes per connection
 * (`npm run bench -- store`: 37-53 B per stored trace with its keys; 46 B on
 * real churn under `tcptrail run`): at 1,000 conns/s a day is ~4-4.6 GB, so
 * the 24 h age limit, not the size, is what binds at that rate (~45 h fit).
 */
export const DEFAULT_MAX_BYTES = 8 * 1024 * 1024 * 1024;
/** RetentionPolicy.eventsMaxAgeMs: raw events are a short ring for live timelines and replay: 15 min. */
export const DEFAULT_EVENTS_MAX_AGE_MS = 15 * 60 * 1000;
/** RetentionPolicy.eventsMaxBytes: 1 GiB. */
export const DEFAULT_EVENTS_MAX_BYTES = 1024 * 1024 * 1024;
/**
 * SqliteStoreOptions.sealTraces: traces per sealed block. Compression gains
 * little past a few thousand traces (src/store/blocks/compress.ts), while a
 * query that needs one trace of a block decodes all of them.
 */
export const DEFAULT_SEAL_TRACES = 4096;
/** SqliteStoreOptions.sealAfterMs: the longest a trace stays in the (uncompressed) hot table when few arrive. */
export const DEFAULT_SEAL_AFTER_MS = 10_000;
/** TraceFilter.limit. */
export const DEFAULT_LIST_LIMIT = 100;
/** The largest TraceFilter.limit accepted: one page is decoded in memory at once. */
export const MAX_LIST_LIMIT = 1000;
/** TimelineQuery.limit. */
export const DEFAULT_TIMELINE_LIMIT = 10_000;
/** ReplayQuery.batchSize. */
export const DEFAULT_REPLAY_BATCH = 1000;

export interface SqliteStoreOptions {
  /** Database file. Default `${TCPTRAIL_STATE_DIR:-/var/lib/tcptrail}/tcptrail.db`; ":memory:" works too. */
  path?: string;
  /** How long a statement waits for a lock held by another connection, ms. Default DEFAULT_BUSY_TIMEOUT_MS (5000). */
  busyTimeoutMs?: number;
  /** Default: silent. */
  log?: Logger;
  /** Seal the hot traces into a compressed block once this many are waiting. Default DEFAULT_SEAL_TRACES (4096). */
  sealTraces?: number;
  /** ...or once the oldest has waited this long, ms (checked on every write and by seal()). Default DEFAULT_SEAL_AFTER_MS (10 s). */
  sealAfterMs?: number;
}

export type ResolvedSqliteStoreOptions = Required<SqliteStoreOptions>;

/** `${TCPTRAIL_STATE_DIR:-/var/lib/tcptrail}/tcptrail.db` */
export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.TCPTRAIL_STATE_DIR || "/var/lib/tcptrail", "tcptrail.db");
}

/** The caller's options with every default filled in. */
export function resolveSqliteStoreOptions(
  opts: SqliteStoreOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedSqliteStoreOptions {
  return {
    path: opts.path ?? defaultDatabasePath(env),
    busyTimeoutMs: opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    log: opts.log ?? silentLogger,
    sealTraces: positiveCount("sealTraces", opts.sealTraces, DEFAULT_SEAL_TRACES),
    sealAfterMs: positiveIntervalMs("sealAfterMs", opts.sealAfterMs, DEFAULT_SEAL_AFTER_MS),
  };
}

function positiveCount(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw InvalidArgumentError.format(name, `must be a whole number >= 1, got ${String(value)}`);
  return value;
}
