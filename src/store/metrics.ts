// Prometheus view of the store: per kind of data (traces, raw events) how
// much is kept and how far back it reaches, set from StoreStats whenever the
// retention schedule reads them (at start and after every run). The horizon
// is what an operator sizes retention by: "can I still ask about last night?".
import { Gauge, type Registry } from "prom-client";
import type { KindStats, StoreStats } from "./store.js";

/** The kinds of stored data, as the `kind` label names them. */
export const STORE_KINDS = ["traces", "events"] as const satisfies readonly (keyof StoreStats["kinds"])[];

function gauge(registry: Registry, name: string, help: string, labelNames: string[] = []): Gauge {
  // Another store in this process (a restart, a test) may have registered it.
  return (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, labelNames, registers: [registry] });
}

export class StoreMetrics {
  readonly #bytes: Gauge;
  readonly #items: Gauge;
  readonly #oldest: Gauge;
  readonly #fileBytes: Gauge;

  constructor(metrics: { registry: Registry }) {
    const r = metrics.registry;
    this.#bytes = gauge(r, "tcptrail_store_bytes", "Bytes the store's data of this kind takes: rows, keys and indexes.", ["kind"]);
    this.#items = gauge(r, "tcptrail_store_items", "Traces, or raw events, the store holds.", ["kind"]);
    // A timestamp, not an age: it stays right between updates (age = time() - this).
    this.#oldest = gauge(
      r,
      "tcptrail_store_oldest_seconds",
      "Unix time of the oldest queryable item of this kind (the store's horizon); absent while the kind is empty.",
      ["kind"],
    );
    this.#fileBytes = gauge(r, "tcptrail_store_file_bytes", "Size of the store's database file and its WAL on disk.");
  }

  report(stats: StoreStats): void {
    for (const kind of STORE_KINDS) this.#reportKind(kind, stats.kinds[kind]);
    this.#fileBytes.set(stats.fileBytes);
  }

  #reportKind(kind: string, k: KindStats): void {
    this.#bytes.set({ kind }, k.bytes);
    this.#items.set({ kind }, k.count);
    // An empty kind has no horizon; 0 would read as "reaches back to 1970".
    if (k.oldestUs === null) this.#oldest.remove({ kind });
    else this.#oldest.set({ kind }, k.oldestUs / 1e6);
  }
}
