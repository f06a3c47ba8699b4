// What every route module receives from the server.
import type { TraceStore } from "../../../store/mod.js";
import type { LiveHub } from "../live-hub.js";
import type { SseConnection, SseOptions } from "../sse.js";

export interface RouteDeps {
  store: TraceStore;
  hub: LiveHub;
  sse: SseOptions;
  /** Open SSE connections, ended when the server closes. */
  streams: Set<SseConnection>;
}
