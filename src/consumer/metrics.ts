// Prometheus view of the consumer, registered on the process registry. The
// consumer counts in plain numbers and adds deltas here once a second.
import { Counter, Gauge, type Registry } from "prom-client";
import type { TcptrailMetrics } from "../metrics/mod.js";

export interface ConsumerCounts {
  batchesConsumed: number;
  eventsConsumed: number;
  malformed: number;
  rejectedEvents: number;
  tracesStored: number;
  tracesPublished: number;
  alertsPublished: number;
  duplicateTraces: number;
}

const COUNTERS: Record<keyof ConsumerCounts, [string, string]> = {
  batchesConsumed: ["tcptrail_consumer_batches_total", "Event batches consumed from JetStream and acked."],
  eventsConsumed: ["tcptrail_consumer_events_total", "Events persisted and fed to the stitcher."],
  malformed: ["tcptrail_consumer_malformed_total", "Messages on the events subject that were not a usable EventBatch."],
  rejectedEvents: ["tcptrail_consumer_rejected_events_total", "Events dropped from valid batches for impossible values."],
  tracesStored: ["tcptrail_consumer_traces_stored_total", "Finished traces written to the store."],
  tracesPublished: ["tcptrail_consumer_traces_published_total", "Finished traces published on tcptrail.v1.traces.*."],
  alertsPublished: ["tcptrail_consumer_alerts_published_total", "Alerts published on tcptrail.v1.alerts.*."],
  duplicateTraces: ["tcptrail_consumer_duplicate_traces_total", "Traces re-stitched after a restart that were already stored (not re-alerted)."],
};

function counter(registry: Registry, name: string, help: string): Counter {
  // Another consumer in this process (a restart, a test) may have registered it.
  return (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, registers: [registry] });
}

export class ConsumerMetrics {
  readonly #counters: Record<keyof ConsumerCounts, Counter>;
  readonly #lag: Gauge;
  readonly #reported: ConsumerCounts;

  constructor(metrics: Pick<TcptrailMetrics, "registry">) {
    const r = metrics.registry;
    this.#counters = Object.fromEntries(
      Object.entries(COUNTERS).map(([k, [name, help]]) => [k, counter(r, name, help)]),
    ) as Record<keyof ConsumerCounts, Counter>;
    const lagName = "tcptrail_consumer_lag_seconds";
    this.#lag =
      (r.getSingleMetric(lagName) as Gauge | undefined) ??
      new Gauge({ name: lagName, help: "Wall time between the newest consumed event and now.", registers: [r] });
    this.#reported = Object.fromEntries(Object.keys(COUNTERS).map((k) => [k, 0])) as unknown as ConsumerCounts;
  }

  report(now: ConsumerCounts, lagMs: number | undefined): void {
    for (const k of Object.keys(COUNTERS) as (keyof ConsumerCounts)[]) {
      const d = now[k] - this.#reported[k];
      if (d > 0) this.#counters[k].inc(d);
      this.#reported[k] = now[k];
    }
    if (lagMs !== undefined) this.#lag.set(lagMs / 1000);
  }
}
