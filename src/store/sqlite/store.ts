// The default TraceStore: one SQLite file under the state directory, written
// through prepared statements, one transaction per batch. This class owns the
// connection's lifetime; each method is one concern module's work.
import type { ConnEvent, ConnEventInit, Trace, TraceInit } from "../../model/mod.js";
import type { Logger } from "../../log/logger.js";
import { StoreClosedError } from "../errors.js";
import type {
  EventSource,
  PutResult,
  ReplayBatch,
  ReplayQuery,
  RetentionPolicy,
  RetentionResult,
  StoreStats,
  Timeline,
  TimelineQuery,
  TraceFilter,
  TracePage,
  TraceStore,
} from "../store.js";
import { listTraces } from "./list.js";
import { existingTraceIds, getTrace, tracesOfSockets } from "./lookup.js";
import { getMeta, setMeta } from "./meta.js";
import { openDatabase } from "./open.js";
import { resolveSqliteStoreOptions, type SqliteStoreOptions } from "./options.js";
import { replayEvents } from "./replay.js";
import { applyRetention } from "./retention.js";
import { PreparedStatements } from "./statements.js";
import { storeStats } from "./stats.js";
import { readTimeline } from "./timeline.js";
import { TraceWriter } from "./write-traces.js";
import { EventWriter } from "./write-events.js";

export class SqliteTraceStore implements TraceStore {
  readonly path: string;
  readonly #log: Logger;
  // Null once closed: every entry point checks it so use-after-close is a clear error.
  #statements: PreparedStatements | null;
  readonly #traces: TraceWriter;
  readonly #events: EventWriter;

  constructor(opts: SqliteStoreOptions = {}) {
    const { path, busyTimeoutMs, log, sealTraces, sealAfterMs } = resolveSqliteStoreOptions(opts);
    this.path = path;
    this.#log = log;
    this.#statements = new PreparedStatements(openDatabase(path, busyTimeoutMs));
    this.#traces = new TraceWriter(this.#statements, { sealTraces, sealAfterMs });
    this.#events = new EventWriter(this.#statements);
    this.#log.debug({ path }, "trace store opened");
  }

  async putTraces(traces: (Trace | TraceInit)[]): Promise<PutResult> {
    this.#open();
    return this.#traces.putTraces(traces);
  }

  async putEvents(source: EventSource, events: (ConnEvent | ConnEventInit)[]): Promise<PutResult> {
    this.#open();
    return this.#events.putEvents(source, events);
  }

  async listTraces(filter: TraceFilter = {}): Promise<TracePage> {
    return listTraces(this.#open(), filter);
  }

  async getTrace(traceId: string): Promise<Trace | null> {
    return getTrace(this.#open(), traceId);
  }

  async timeline(query: TimelineQuery): Promise<Timeline> {
    return readTimeline(this.#open(), query);
  }

  async retention(policy: RetentionPolicy = {}): Promise<RetentionResult> {
    return applyRetention(this.#open(), policy, { path: this.path, log: this.#log });
  }

  async stats(): Promise<StoreStats> {
    return storeStats(this.#open(), this.path);
  }

  replayEvents(query: ReplayQuery): AsyncIterable<ReplayBatch> {
    return replayEvents(() => this.#open(), query);
  }

  async existingTraceIds(traceIds: readonly string[]): Promise<Set<string>> {
    return existingTraceIds(this.#open(), traceIds);
  }

  async tracesOfSockets(socketIds: readonly string[]): Promise<Map<string, string>> {
    return tracesOfSockets(this.#open(), socketIds);
  }

  async getMeta(key: string): Promise<string | null> {
    return getMeta(this.#open(), key);
  }

  async setMeta(key: string, value: string): Promise<void> {
    setMeta(this.#open(), key, value);
  }

  /**
   * Seal every hot trace into compressed blocks now, however few (the store
   * seals by itself once sealTraces are hot or the oldest waited sealAfterMs).
   * Not part of TraceStore: tests and benchmarks force it. Returns the traces sealed.
   */
  async seal(): Promise<number> {
    this.#open();
    return this.#traces.seal();
  }

  /** Seals what is hot (so a reopened file starts compact), then closes the file. */
  async close(): Promise<void> {
    if (!this.#statements) return;
    try {
      this.#traces.seal();
    } catch (err) {
      // The traces stay in the hot table, safe and queryable; the next writer seals them.
      this.#log.warn({ err }, "sealing hot traces on close failed");
    }
    this.#statements.db.close();
    this.#statements = null;
  }

  #open(): PreparedStatements {
    if (!this.#statements) throw new StoreClosedError("the trace store is closed");
    return this.#statements;
  }
}
