// OTLP export of finished traces: each trace as OpenTelemetry spans (one per
// socket leg, parented by cause, kernel times, ids stable across re-exports)
// sent over OTLP/HTTP protobuf by the official exporter, behind a bounded
// queue that never holds tracing up.
export {
  DEFAULT_OTLP_CLOSE_MS,
  DEFAULT_OTLP_SERVICE_NAME,
  DEFAULT_OTLP_TIMEOUT_MS,
  startOtlpExport,
  type OtlpExport,
  type OtlpExportOptions,
  type OtlpExportSettings,
  type OtlpExportStats,
} from "./otlp-export.js";
export {
  DEFAULT_OTLP_EXPORT_DEADLINE_MS,
  DEFAULT_OTLP_FLUSH_MS,
  DEFAULT_OTLP_MAX_BATCH_SPANS,
  DEFAULT_OTLP_MAX_QUEUE_SPANS,
  ExportQueue,
  type ExportQueueOptions,
  type ExportQueueStats,
} from "./export-queue.js";
export { OTLP_TRACES_PATH, otlpTracesUrl } from "./endpoint.js";
export { OtlpOptionsError, isOtlpOptionsError } from "./errors.js";
export { otlpSpanId, otlpTraceId } from "./ids.js";
export { hopParents, type HopShape } from "./hop-parents.js";
export { SPAN_EVENT, traceToSpans, type SpanOrigin } from "./trace-spans.js";
export { TCPTRAIL as TCPTRAIL_ATTRIBUTES } from "./semconv.js";
