// Where traces and raw events are kept: the TraceStore contract, its SQLite
// implementation (./sqlite/), the PostgreSQL one (./postgres/), periodic retention and its /metrics gauges.
export type {
  EventSource,
  KindStats,
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
// The SQLite implementation; its mod.ts lists what leaves that folder.
export * from "./sqlite/mod.js";
// The PostgreSQL implementation, for consumers that share one store.
export * from "./postgres/mod.js";
export { STORE_URL_SYNTAX, BadStoreUrlError, isBadStoreUrlError, parseStoreUrl, type StoreLocation } from "./store-url.js";
export { openTraceStore, type OpenedStore } from "./open-store.js";
export { DEFAULT_RETENTION_INTERVAL_MS, scheduleRetention, type RetentionSchedule, type RetentionScheduleOptions } from "./retention.js";
export { STORE_KINDS, StoreMetrics } from "./metrics.js";
export {
  BadQueryError,
  SchemaTooNewError,
  StoreClosedError,
  isBadQueryError,
  isSchemaTooNewError,
  isStoreClosedError,
  isStoreError,
  type BadQueryOptions,
  type SchemaTooNewOptions,
  type StoreErrorCode,
} from "./errors.js";
