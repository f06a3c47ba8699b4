// The PostgreSQL TraceStore (`--store postgres://…`): one relational row per
// trace and per raw event, the shared timeline and filter logic. Only the
// class, its options and their defaults leave this folder.
export { PostgresTraceStore } from "./store.js";
export { DEFAULT_CONNECT_TIMEOUT_MS, DEFAULT_POOL_SIZE, type PostgresStoreOptions } from "./options.js";
export { PG_SCHEMA_VERSION } from "./schema.js";
