// A TraceStore on a PostgreSQL server: what several consumers share when one
// machine's SQLite file is not enough (issue 14). Same contract and
// semantics as SqliteTraceStore; this class owns the pool's lifetime and
// each method is one concern module's work.
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
import { PgConnection } from "./connection.js";
import { listTraces } from "./list.js";
import { existingTraceIds, getTrace, tracesOfSockets } from "./lookup.js";
import { getMeta, setMeta } from "./meta.js";
import { redactUrl, resolvePostgresStoreOptions, type PostgresStoreOptions } from "./options.js";
import { replayEvents } from "./replay.js";
import { applyRetention, storeStats } from "./retention.js";
import { migratePostgres } from "./schema.js";
import { readTimeline } from "./timeline.js";
import { EventWriter } from "./write-events.js";
import { putTraces } from "./write-traces.js";

export class PostgresTraceStore implements TraceStore {
  /** The server's URL without its password. */
  readonly url: string;
  readonly #log: Logger;
  // Null once closed: every entry point checks it so use-after-close is a clear error.
  #db: PgConnection | null;
  readonly #events: EventWriter;

  private constructor(db: PgConnection, url: string, log: Logger) {
    this.#db = db;
    this.url = url;
    this.#log = log;
    this.#events = new EventWriter(db);
  }

  /** Connect, create or upgrade the schema (SchemaTooNewError when the database is newer), and return the store. */
  static async open(opts: PostgresStoreOptions): Promise<PostgresTraceStore> {
    const o = resolvePostgresStoreOptions(opts);
    const url = redactUrl(o.url);
    const db = new PgConnection(o);
    try {
      await db.withClient((c) => migratePostgres(c, url));
    } catch (e) {
      await db.end().catch(() => undefined);
      throw e;
    }
    o.log.debug({ url }, "trace store opened");
    return new PostgresTraceStore(db, url, o.log);
  }

  async putTraces(traces: (Trace | TraceInit)[]): Promise<PutResult> {
    return putTraces(this.#open(), traces);
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
    return applyRetention(this.#open(), policy, this.#log);
  }

  async stats(): Promise<StoreStats> {
    return storeStats(this.#open());
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
    return setMeta(this.#open(), key, value);
  }

  async close(): Promise<void> {
    const db = this.#db;
    if (!db) return;
    this.#db = null;
    await db.end();
  }

  #open(): PgConnection {
    if (!this.#db) throw new StoreClosedError("the trace store is closed");
    return this.#db;
  }
}
