// The OTLP export of finished traces: each trace the consumer announces is
// mapped to spans (trace-spans.ts) and queued (export-queue.ts) for the
// official OpenTelemetry OTLP/HTTP protobuf exporter. push() is synchronous
// and cannot throw, so the consumer never waits for, or fails with, a
// tracing backend.
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-proto";
import { resourceFromAttributes } from "@opentelemetry/resources";
import type { Registry } from "prom-client";
import { silentLogger, type Logger } from "../../log/logger.js";
import type { Trace, TraceInit } from "../../model/mod.js";
import { otlpTracesUrl } from "./endpoint.js";
import { OtlpOptionsError } from "./errors.js";
import { DEFAULT_OTLP_FLUSH_MS, DEFAULT_OTLP_MAX_BATCH_SPANS, DEFAULT_OTLP_MAX_QUEUE_SPANS, ExportQueue, type ExportQueueStats } from "./export-queue.js";
import { OtlpMetrics } from "./metrics.js";
import { ATTR_SERVICE_NAME } from "./semconv.js";
import { traceToSpans, type SpanOrigin } from "./trace-spans.js";

/** The service every span is from. */
export const DEFAULT_OTLP_SERVICE_NAME = "tcptrail";
/** One export request's timeout, retries included, ms (the SDK's default). */
export const DEFAULT_OTLP_TIMEOUT_MS = 10_000;
/** How long close() sends what is still queued, ms. */
export const DEFAULT_OTLP_CLOSE_MS = 5_000;
/** Log a failure or a drop the first time and then once per this many. */
const LOG_EVERY = 100;

/** Plain data only: in `run` these cross to the consumer worker by structured clone. */
export interface OtlpExportSettings {
  /** The collector's base URL (OTEL_EXPORTER_OTLP_ENDPOINT's meaning): spans go to <endpoint>/v1/traces. */
  endpoint: string;
  /**
   * Extra request headers. Default: none here; OTEL_EXPORTER_OTLP_HEADERS
   * (and OTEL_EXPORTER_OTLP_TRACES_HEADERS) are read by the exporter itself
   * and apply either way, these winning on a clash.
   */
  headers?: Record<string, string>;
  /** One request's timeout, retries included, ms. Default DEFAULT_OTLP_TIMEOUT_MS. */
  timeoutMs?: number;
  /** Default DEFAULT_OTLP_MAX_QUEUE_SPANS. */
  maxQueueSpans?: number;
  /** Default DEFAULT_OTLP_MAX_BATCH_SPANS. */
  maxBatchSpans?: number;
  /** Default DEFAULT_OTLP_FLUSH_MS. */
  flushMs?: number;
  /** Default DEFAULT_OTLP_CLOSE_MS. */
  closeMs?: number;
  /** service.name of the spans' resource. Default DEFAULT_OTLP_SERVICE_NAME. */
  serviceName?: string;
}

export interface OtlpExportOptions extends OtlpExportSettings {
  logger?: Logger;
  /** Registers tcptrail_otlp_* here. Default: none. */
  metrics?: { registry: Registry };
}

export interface OtlpExportStats extends ExportQueueStats {
  /** Traces offered. */
  traces: number;
  /** Traces that could not be mapped to spans (a bug: logged). */
  unmappable: number;
}

export interface OtlpExport {
  /** The URL spans are posted to. */
  readonly url: string;
  /** Export a finished trace: synchronous, never throws, never waits for the backend. */
  push(trace: Trace | TraceInit): void;
  stats(): OtlpExportStats;
  /** Send what is queued (bounded by closeMs) and shut the exporter down. */
  close(): Promise<void>;
}

function positive(name: keyof OtlpExportSettings, v: number | undefined, byDefault: number): number {
  if (v === undefined) return byDefault;
  if (!Number.isSafeInteger(v) || v < 1) throw OtlpOptionsError.format(name, `must be a whole number >= 1, got ${v}`);
  return v;
}

/**
 * Start exporting. Nothing connects yet: the first request goes out with the
 * first trace, and a backend that is down then is counted, not fatal.
 * @throws OtlpOptionsError
 */
export function startOtlpExport(o: OtlpExportOptions): OtlpExport {
  const url = otlpTracesUrl(o.endpoint);
  const timeoutMs = positive("timeoutMs", o.timeoutMs, DEFAULT_OTLP_TIMEOUT_MS);
  const maxQueueSpans = positive("maxQueueSpans", o.maxQueueSpans, DEFAULT_OTLP_MAX_QUEUE_SPANS);
  const maxBatchSpans = positive("maxBatchSpans", o.maxBatchSpans, DEFAULT_OTLP_MAX_BATCH_SPANS);
  const flushMs = positive("flushMs", o.flushMs, DEFAULT_OTLP_FLUSH_MS);
  const closeMs = positive("closeMs", o.closeMs, DEFAULT_OTLP_CLOSE_MS);
  const log = (o.logger ?? silentLogger).child({ component: "otlp" });
  const metrics = o.metrics ? new OtlpMetrics(o.metrics) : undefined;
  const origin: SpanOrigin = {
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: o.serviceName ?? DEFAULT_OTLP_SERVICE_NAME }),
    scope: { name: "tcptrail" },
  };
  const exporter = new OTLPTraceExporter({ url, timeoutMillis: timeoutMs, ...(o.headers ? { headers: o.headers } : {}) });
  let failures = 0;
  let drops = 0;
  const queue = new ExportQueue({
    exporter,
    maxQueueSpans,
    maxBatchSpans,
    flushMs,
    // The guard only catches a callback that never comes: past the exporter's own timeout.
    exportDeadlineMs: timeoutMs * 2 + 1000,
    onExported: (n) => metrics?.exported.inc(n),
    onFailed: (n, err) => {
      metrics?.failures.inc();
      metrics?.failedSpans.inc(n);
      if (failures++ % LOG_EVERY === 0) log.warn({ err, url, spans: n, failures }, "OTLP export failed; its spans are dropped (the traces stay in the store)");
    },
    onDropped: (n) => {
      metrics?.dropped.inc(n);
      if (drops++ % LOG_EVERY === 0) log.warn({ url, spans: n, drops }, "OTLP export queue full: dropped a trace's spans");
    },
  });
  let traces = 0;
  let unmappable = 0;
  const gauge = () => metrics?.queued.set(queue.stats().queued);
  log.info({ url }, "exporting finished traces over OTLP/HTTP");
  return {
    url,
    push(trace) {
      traces++;
      try {
        queue.offer(traceToSpans(trace, origin));
      } catch (err) {
        if (unmappable++ === 0) log.error({ err, trace_id: trace.traceId }, "could not map a trace to OTLP spans");
      }
      gauge();
    },
    stats: () => ({ ...queue.stats(), traces, unmappable }),
    async close() {
      await queue.close(closeMs);
      gauge();
    },
  };
}
