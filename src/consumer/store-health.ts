// Whether the trace store can write, as the consumer finds out by writing.
// A full disk, a locked or read-only file or an I/O error does not lose data
// here (events are not acked until stored, traces wait in the writer), but
// nothing new becomes queryable either, so it must be seen: /healthz says
// `degraded` with the reason, tcptrail_store_healthy drops to 0, every failed
// write is counted by kind, and the log and the alert sinks hear of it once
// per change of state, not once per retry (a retry every second under a full
// disk is what used to fill the log with stack traces).
import { Counter, Gauge, type Registry } from "prom-client";
import { silentLogger, type Logger } from "../log/logger.js";

/** What kind of failure a write met: the `kind` label of tcptrail_store_write_errors_total. */
export type StoreFaultKind = "full" | "locked" | "io" | "readonly" | "closed" | "other";

export const STORE_FAULT_KINDS: readonly StoreFaultKind[] = ["full", "locked", "io", "readonly", "closed", "other"];

/** Which write failed: events (before their ack), finished traces, or the consumer checkpoint. */
export type StoreWrite = "events" | "traces" | "checkpoint";

export interface StoreHealthState {
  status: "ok" | "degraded";
  /** Degraded: the latest failure, in one sentence ("events: database or disk is full"). */
  reason?: string;
  kind?: StoreFaultKind;
  /** Degraded: since when, wall-clock ms. */
  sinceMs?: number;
  /** Degraded: the writes failing now. */
  failing?: StoreWrite[];
}

/** A change of state, for whoever must be told (the alert sinks). */
export interface StoreHealthChange {
  state: StoreHealthState;
  /** Failed writes during the degraded spell that just ended (recovery only). */
  failures?: number;
}

export interface StoreHealthOptions {
  /** Default: silent. */
  logger?: Logger;
  /** Registers tcptrail_store_write_errors_total{kind} and tcptrail_store_healthy here. Default: none. */
  metrics?: { registry: Registry };
}

export type StoreHealthListener = (change: StoreHealthChange) => void;

// SQLite's result codes (better-sqlite3 puts them in `code`, extended codes
// included, e.g. SQLITE_IOERR_WRITE) and the errno names Node uses for the
// same faults when the file is touched directly.
const KIND_BY_CODE: [RegExp, StoreFaultKind][] = [
  [/^(SQLITE_FULL|ENOSPC|EDQUOT)$/, "full"],
  [/^(SQLITE_BUSY|SQLITE_LOCKED)/, "locked"],
  [/^(SQLITE_READONLY|EROFS|EACCES|EPERM)/, "readonly"],
  [/^(SQLITE_IOERR|EIO|SQLITE_CORRUPT|SQLITE_CANTOPEN)/, "io"],
  [/^ERR_STORE_CLOSED$/, "closed"],
];

/** The kind of a store write failure, from its code (SQLite's or errno's). */
export function storeFaultKind(err: unknown): StoreFaultKind {
  const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
  if (typeof code === "string") {
    for (const [re, kind] of KIND_BY_CODE) if (re.test(code)) return kind;
  }
  return "other";
}

function counter(registry: Registry, name: string, help: string, labelNames: string[]): Counter {
  // Another consumer in this process (a restart, a test) may have registered it.
  return (registry.getSingleMetric(name) as Counter | undefined) ?? new Counter({ name, help, labelNames, registers: [registry] });
}

function gauge(registry: Registry, name: string, help: string): Gauge {
  return (registry.getSingleMetric(name) as Gauge | undefined) ?? new Gauge({ name, help, registers: [registry] });
}

export class StoreHealth {
  readonly #log: Logger;
  readonly #listeners = new Set<StoreHealthListener>();
  readonly #errors: Counter | undefined;
  readonly #healthy: Gauge | undefined;
  /** The writes whose latest attempt failed, with that failure. */
  readonly #failing = new Map<StoreWrite, { kind: StoreFaultKind; reason: string }>();
  #sinceMs = 0;
  #failures = 0;
  #latest: StoreWrite | undefined;

  constructor(o: StoreHealthOptions = {}) {
    this.#log = o.logger ?? silentLogger;
    if (o.metrics) {
      const r = o.metrics.registry;
      this.#errors = counter(r, "tcptrail_store_write_errors_total", "Failed writes to the trace store (each retry counts), by kind of failure.", ["kind"]);
      // Every kind present from the start, so rate() has a zero to start from.
      for (const kind of STORE_FAULT_KINDS) this.#errors.inc({ kind }, 0);
      this.#healthy = gauge(r, "tcptrail_store_healthy", "1 while the trace store takes writes, 0 while writes fail (see /healthz for the reason).");
      this.#healthy.set(1);
    }
  }

  /** Be told of every change of state (ok → degraded, degraded → ok); returns the unsubscribe. */
  onChange(listener: StoreHealthListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  get healthy(): boolean {
    return this.#failing.size === 0;
  }

  state(): StoreHealthState {
    if (this.#failing.size === 0) return { status: "ok" };
    const latest = this.#failing.get(this.#latest!) ?? [...this.#failing.values()][0]!;
    return { status: "degraded", reason: latest.reason, kind: latest.kind, sinceMs: this.#sinceMs, failing: [...this.#failing.keys()] };
  }

  /** A write failed (it will be retried). Logs and notifies only when this turns the store degraded. */
  failed(write: StoreWrite, err: unknown): void {
    const kind = storeFaultKind(err);
    const message = err instanceof Error ? err.message : String(err);
    const code = typeof err === "object" && err !== null ? (err as { code?: unknown }).code : undefined;
    const wasHealthy = this.#failing.size === 0;
    this.#failing.set(write, { kind, reason: `${write}: ${message}${typeof code === "string" ? ` (${code})` : ""}` });
    this.#latest = write;
    this.#failures++;
    this.#errors?.inc({ kind });
    if (!wasHealthy) return;
    this.#sinceMs = Date.now();
    this.#healthy?.set(0);
    const state = this.state();
    // The stack once, here: every later retry of the spell is only counted.
    this.#log.error({ err, write, kind }, `trace store degraded: ${state.reason}; nothing is acked or lost, writes are retried`);
    this.#notify({ state });
  }

  /** A write succeeded. Logs and notifies only when this ends a degraded spell. */
  succeeded(write: StoreWrite): void {
    if (!this.#failing.delete(write) || this.#failing.size > 0) return;
    const failures = this.#failures;
    const degradedMs = Date.now() - this.#sinceMs;
    this.#failures = 0;
    this.#healthy?.set(1);
    this.#log.info({ failures, degradedMs }, "trace store recovered: writes succeed again");
    this.#notify({ state: { status: "ok" }, failures });
  }

  #notify(change: StoreHealthChange): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch (err) {
        this.#log.error({ err }, "store health listener failed");
      }
    }
  }
}
