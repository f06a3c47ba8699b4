// Everything that happens to a finished trace, in batches: store it, then
// announce it (live hub, tcptrail.v1.traces.<outcome>, alert rules). A trace
// id already stored was announced by an earlier run and is left alone, which
// is what keeps a restart from re-alerting; a re-stitched fragment of a
// stored trace (a socket that already belongs to another trace) is dropped.
import type { Alert, KernelNs, Trace } from "../model/mod.js";
import type { AlertEngine, AlertSink } from "../alert/mod.js";
import type { Logger } from "../log/logger.js";
import type { LiveHub } from "../query/server/mod.js";
import { parseSocketId } from "../model/mod.js";
import type { TraceStore } from "../store/mod.js";
import type { PendingSockets } from "./pending-sockets.js";
import type { StoreHealth } from "./store-health.js";

export interface TraceWriterOptions {
  store: TraceStore;
  hub: LiveHub;
  /** Publishes one trace on NATS; resolves when acked. */
  publishTrace: (trace: Trace) => Promise<unknown>;
  alerts: AlertEngine;
  sinks: readonly AlertSink[];
  pending: PendingSockets;
  /** Whether a socket (node, birth) was born during the startup replay: only those can form fragments. */
  bornInReplay: (node: string, birthNs: KernelNs) => boolean;
  /** Longest a finished trace waits to be written, ms. */
  flushMs: number;
  /** Write at once when this many traces wait. */
  maxBatch: number;
  /** After a failed write, wait this long before the next attempt, ms. */
  retryMs: number;
  /** Told of every failed and successful write: it logs once per spell, so the writer does not log each retry. */
  health: StoreHealth;
  logger: Logger;
}

export interface TraceWriterStats {
  tracesStored: number;
  tracesPublished: number;
  publishFailures: number;
  /** Already stored by an earlier run: not written, published or alerted again. */
  duplicateTraces: number;
  /** Partial re-stitches of a stored trace after a restart: dropped. */
  fragments: number;
  alertsRaised: number;
  writeFailures: number;
  /** Traces waiting to be written. */
  queued: number;
}

export class TraceWriter {
  readonly #o: TraceWriterOptions;
  #queue: Trace[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> | undefined;
  #retryAfterMs = 0;
  readonly #publishes = new Set<Promise<void>>();
  readonly #stats = {
    tracesStored: 0,
    tracesPublished: 0,
    publishFailures: 0,
    duplicateTraces: 0,
    fragments: 0,
    alertsRaised: 0,
    writeFailures: 0,
  };

  constructor(o: TraceWriterOptions) {
    this.#o = o;
  }

  /** A finished trace from the stitcher (synchronous: never blocks stitching). */
  push(trace: Trace): void {
    this.#queue.push(trace);
    if (this.#queue.length >= this.#o.maxBatch) this.#kick();
    else this.#timer ??= setTimeout(() => this.#kick(), this.#o.flushMs);
  }

  /** Hand alerts the engine produced outside a write (its periodic flush) to the sinks. */
  raise(alerts: readonly Alert[]): void {
    for (const a of alerts) {
      this.#stats.alertsRaised++;
      for (const s of this.#o.sinks) s.send(a);
    }
  }

  /** Write everything queued now; resolves once it is stored (or the store failed, logged). */
  async flush(): Promise<void> {
    this.#retryAfterMs = 0;
    while (this.#writing || this.#queue.length > 0) {
      if (!this.#writing) this.#kick();
      await this.#writing;
      if (this.#queue.length > 0 && this.#retryAfterMs > 0) break; // the store is failing: give up for now
    }
  }

  /** flush(), then wait for NATS publishes in flight. */
  async close(): Promise<void> {
    await this.flush();
    clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#publishes.size > 0) await Promise.all([...this.#publishes]);
  }

  stats(): TraceWriterStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  #kick(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#writing || this.#queue.length === 0) return;
    const wait = this.#retryAfterMs - Date.now();
    if (wait > 0) {
      this.#timer = setTimeout(() => this.#kick(), wait);
      return;
    }
    const batch = this.#queue;
    this.#queue = [];
    this.#writing = this.#write(batch)
      .catch((err: unknown) => {
        // Keep the traces: the next attempt retries them in order.
        this.#stats.writeFailures++;
        this.#retryAfterMs = Date.now() + this.#o.retryMs;
        this.#queue = batch.concat(this.#queue);
        this.#o.health.failed("traces", err);
        this.#o.logger.debug({ err, traces: batch.length }, "writing traces failed; retrying");
      })
      .finally(() => {
        this.#writing = undefined;
        if (this.#queue.length > 0) this.#timer ??= setTimeout(() => this.#kick(), this.#o.flushMs);
      });
  }

  async #write(batch: Trace[]): Promise<void> {
    const o = this.#o;
    const byId = new Map<string, Trace>();
    for (const t of batch) byId.set(t.traceId, t);
    const ids = [...byId.keys()];
    const existing = await o.store.existingTraceIds(ids);
    const fresh: Trace[] = [];
    const suspects: Trace[] = [];
    for (const t of byId.values()) {
      if (existing.has(t.traceId)) this.#stats.duplicateTraces++;
      else if (this.#fromReplay(t)) suspects.push(t);
      else fresh.push(t);
    }
    if (suspects.length > 0) fresh.push(...(await this.#notFragments(suspects)));
    if (fresh.length > 0) {
      await o.store.putTraces(fresh);
      this.#stats.tracesStored += fresh.length;
    }
    o.health.succeeded("traces");
    for (const t of batch) o.pending.settled(t);
    for (const t of fresh) this.#announce(t);
  }

  #announce(t: Trace): void {
    const o = this.#o;
    o.hub.publishTrace(t);
    const p = o
      .publishTrace(t)
      .then(
        () => void this.#stats.tracesPublished++,
        (err: unknown) => {
          if (this.#stats.publishFailures++ === 0 || this.#stats.publishFailures % 100 === 0) {
            o.logger.warn({ err, failures: this.#stats.publishFailures }, "publishing a trace failed");
          }
        },
      )
      .finally(() => this.#publishes.delete(p));
    this.#publishes.add(p);
    let alerts: Alert[];
    try {
      alerts = o.alerts.evaluate(t);
    } catch (err) {
      o.logger.error({ err, trace_id: t.traceId }, "alert evaluation failed");
      return;
    }
    this.raise(alerts);
  }

  #fromReplay(t: Trace): boolean {
    for (const h of t.hops) {
      for (const ep of [h.client, h.server]) {
        const id = ep?.socketId ? parseSocketId(ep.socketId) : null;
        if (id && this.#o.bornInReplay(id.node, id.birthNs)) return true;
      }
    }
    return false;
  }

  /** Of traces re-stitched from replayed events, those sharing no socket with a stored trace. */
  async #notFragments(traces: Trace[]): Promise<Trace[]> {
    const sockets = traces.flatMap((t) => t.hops.flatMap((h) => [h.client?.socketId ?? "", h.server?.socketId ?? ""]));
    const owners = await this.#o.store.tracesOfSockets(sockets.filter(Boolean));
    return traces.filter((t) => {
      const taken = t.hops.some((h) =>
        [h.client?.socketId, h.server?.socketId].some((id) => id && owners.has(id) && owners.get(id) !== t.traceId),
      );
      if (taken) this.#stats.fragments++;
      return !taken;
    });
  }
}
