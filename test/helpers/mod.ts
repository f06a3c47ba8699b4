// The generic test helpers, one of each: root checks, waiting for a
// condition, a private temp dir, a private nats-server (alone or with a
// connected client and the streams), a private PostgreSQL. Domain fixtures stay next to their tests.
export { describeRoot, isRoot, itRoot } from "./root.js";
export {
  DEFAULT_WAIT_INTERVAL_MS,
  DEFAULT_WAIT_TIMEOUT_MS,
  WaitTimeoutError,
  isWaitTimeoutError,
  waitFor,
} from "./wait-for.js";
export type { NotYet, WaitForOptions } from "./wait-for.js";
export { DEFAULT_TEMP_LABEL, makeTempDir } from "./temp-dir.js";
export type { TempDir } from "./temp-dir.js";
export { tempDirForAll } from "./temp-dir-hooks.js";
export type { SharedTempDir } from "./temp-dir-hooks.js";
export { isProcessAlive } from "./process-alive.js";
export { startNatsServer } from "./nats-server.js";
export { DEFAULT_CLUSTER_READY_TIMEOUT_MS, DEFAULT_CLUSTER_SIZE, startNatsCluster } from "./nats-cluster.js";
export type { ClusterServer, NatsCluster, NatsClusterOptions } from "./nats-cluster.js";
export type { TestNatsOptions, TestNatsServer } from "./nats-server.js";
export { setupNats } from "./nats-setup.js";
export { DEFAULT_PG_BIN_DIR, startPostgres } from "./postgres-server.js";
export type { TestPostgres, TestPostgresOptions } from "./postgres-server.js";
export type { NatsSetup, NatsSetupOptions } from "./nats-setup.js";
