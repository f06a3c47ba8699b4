// How users ask about traces, client side: the API client, the JSON shapes
// the API answers with, and the terminal renderers the CLI uses. Nothing here
// loads the server (fastify) or the store (the native SQLite addon), so thin
// CLI commands stay thin; the API itself is ./server/mod.ts.
export { API_PREFIX } from "./api-path.js";
export { traceToJson, endpointToJson, type TraceJson, type HopJson, type EndpointJson } from "./trace-json.js";
export { eventToJson, type EventJson, type ProcessJson } from "./event-json.js";
export { formatTimeUs, formatDurationUs } from "./time.js";
export { parseTarget, targetParams, type Target } from "./target.js";
export { QueryClient, DEFAULT_API_URL, type QueryClientOptions, type TraceListJson, type TimelineJson, type Params } from "./client.js";
export { renderTraceLine, renderTraceTable, type TraceRenderOptions } from "./render-table.js";
export { renderTimeline, type TimelineRenderOptions } from "./render-timeline.js";
export { renderWhy, whySentence, type WhyRenderOptions } from "./render-why.js";
export { ansi, outcomeTone, paintOutcome, painter, plain, stripColor, type Painter, type Tone } from "./render-color.js";
export {
  ApiResponseError,
  ApiUnreachableError,
  BadParameterError,
  isApiResponseError,
  isApiUnreachableError,
  isBadParameterError,
  type ApiResponseOptions,
  type ApiUnreachableOptions,
} from "./errors.js";
