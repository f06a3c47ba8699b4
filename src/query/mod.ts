// How users ask about traces: the HTTP API (fastify, /api/v1), the live hub
// the consumer publishes into, the JSON shapes, the API client and the
// terminal renderers the CLI uses.
export { startQueryServer, buildQueryApp, API_PREFIX, type QueryServer, type QueryServerOptions } from "./server.js";
export { createLiveHub, type LiveHub, type LiveHubOptions, type TraceListener, type EventListener } from "./live-hub.js";
export { traceToJson, endpointToJson, type TraceJson, type HopJson, type EndpointJson } from "./trace-json.js";
export { eventToJson, type EventJson, type ProcessJson } from "./event-json.js";
export { traceMatches, eventMatches, type LiveTraceFilter, type LiveEventFilter } from "./match.js";
export { parseTimeParam, formatTimeUs, formatDurationUs } from "./time.js";
export { parseTarget, targetParams, type Target } from "./target.js";
export { QueryClient, DEFAULT_API_URL, type QueryClientOptions, type TraceListJson, type TimelineJson, type Params } from "./client.js";
export { renderTraceTable } from "./render-table.js";
export { renderTimeline } from "./render-timeline.js";
export { renderWhy, whySentence } from "./render-why.js";
export type { SseOptions } from "./sse.js";
export {
  ApiResponseError,
  ApiUnreachableError,
  BadParameterError,
  isApiResponseError,
  isApiUnreachableError,
  isBadParameterError,
  type QueryErrorCode,
} from "./errors.js";
