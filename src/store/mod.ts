// Where traces and raw events are kept: the TraceStore contract, its SQLite
// implementation and periodic retention.
export type {
  EventSource,
  PutResult,
  ReplayBatch,
  ReplayQuery,
  RetentionPolicy,
  RetentionResult,
  StoredEvent,
  StoreStats,
  Timeline,
  TimelineQuery,
  TraceFilter,
  TracePage,
  TraceStore,
} from "./store.js";
export {
  SqliteTraceStore,
  defaultDatabasePath,
  DEFAULT_LIST_LIMIT,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_BYTES,
  DEFAULT_REPLAY_BATCH,
  DEFAULT_TIMELINE_LIMIT,
  MAX_LIST_LIMIT,
  type SqliteStoreOptions,
} from "./sqlite-store.js";
export { DEFAULT_RETENTION_INTERVAL_MS, scheduleRetention, type RetentionSchedule, type RetentionScheduleOptions } from "./retention.js";
export {
  BadQueryError,
  SchemaTooNewError,
  StoreClosedError,
  isBadQueryError,
  isSchemaTooNewError,
  isStoreClosedError,
  isStoreError,
  type StoreErrorCode,
} from "./errors.js";
