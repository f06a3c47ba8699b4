// The SQLite TraceStore, one concern per file: store.ts owns the connection,
// write/list/timeline/replay/retention/stats do the work, options.ts holds
// every default. Only the class, its options and their defaults leave this
// folder; ../mod.ts re-exports exactly this list.
export { SqliteTraceStore } from "./store.js";
export {
  defaultDatabasePath,
  DEFAULT_BUSY_TIMEOUT_MS,
  DEFAULT_LIST_LIMIT,
  DEFAULT_MAX_AGE_MS,
  DEFAULT_MAX_BYTES,
  DEFAULT_REPLAY_BATCH,
  DEFAULT_TIMELINE_LIMIT,
  MAX_LIST_LIMIT,
  type SqliteStoreOptions,
} from "./options.js";
