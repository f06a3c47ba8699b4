// Opening the TraceStore a location names: what the consumer side does with
// `--store` (or, without it, the SQLite file under the state directory).
import type { Logger } from "../log/logger.js";
import { PostgresTraceStore } from "./postgres/mod.js";
import { SqliteTraceStore } from "./sqlite/mod.js";
import type { TraceStore } from "./store.js";
import type { StoreLocation } from "./store-url.js";

export interface OpenedStore {
  store: TraceStore;
  /** Where it is, for logs and the job's endpoints (a PostgreSQL URL without its password). */
  where: string;
}

export async function openTraceStore(location: StoreLocation, log: Logger): Promise<OpenedStore> {
  if (location.kind === "postgres") {
    const store = await PostgresTraceStore.open({ url: location.url, log });
    return { store, where: store.url };
  }
  const store = new SqliteTraceStore({ path: location.path, log });
  return { store, where: store.path };
}
