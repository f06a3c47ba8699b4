// What every route module receives from the server.
import type { TraceStore } from "../../../store/mod.js";
import type { LiveHub } from "../live-hub.js";
import type { SseConnection, SseOptions } from "../sse.js";

/** Whether the store takes writes, as its writer (the consumer) finds out: what /healthz reports. */
export interface StoreWriteHealth {
  status: "ok" | "degraded";
  /** Degraded: the latest failure, one sentence. */
  reason?: string;
  /** Degraded: the kind of failure ("full", "locked", "io", "readonly"...). */
  kind?: string;
  /** Degraded: since when, wall-clock ms. */
  sinceMs?: number;
}

export interface RouteDeps {
  store: TraceStore;
  /** The store's write health. Default: none (healthz checks reads only). */
  storeHealth?: () => StoreWriteHealth;
  hub: LiveHub;
  sse: SseOptions;
  /** Open SSE connections, ended when the server closes. */
  streams: Set<SseConnection>;
}
