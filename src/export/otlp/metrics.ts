// Prometheus view of the OTLP export, on the registry of the thread that
// exports (the consumer worker's in `run`, appended to the main /metrics).
// Counted once per export or drop, not per event: far off the hot path.
import { Counter, Gauge, type Registry } from "prom-client";

function counter(registry: Registry, name: string, help: string): Counter {
  // Another export in this process (a restart, a test) may have registered it.
  return (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, registers: [registry] });
}

export class OtlpMetrics {
  readonly exported: Counter;
  readonly failures: Counter;
  readonly failedSpans: Counter;
  readonly dropped: Counter;
  readonly queued: Gauge;

  constructor(metrics: { registry: Registry }) {
    const r = metrics.registry;
    this.exported = counter(r, "tcptrail_otlp_spans_exported_total", "Spans the OTLP backend accepted.");
    this.failures = counter(
      r,
      "tcptrail_otlp_export_failures_total",
      "OTLP export requests that failed after the exporter's retries (backend down, refused, timed out, 4xx/5xx).",
    );
    this.failedSpans = counter(r, "tcptrail_otlp_failed_spans_total", "Spans lost in OTLP export requests that failed.");
    this.dropped = counter(r, "tcptrail_otlp_dropped_spans_total", "Spans dropped because the OTLP export queue was full.");
    const queued = "tcptrail_otlp_queued_spans";
    this.queued =
      (r.getSingleMetric(queued) as Gauge | undefined) ?? new Gauge({ name: queued, help: "Spans waiting for the OTLP exporter.", registers: [r] });
  }
}
