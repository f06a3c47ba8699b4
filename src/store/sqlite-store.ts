// The default TraceStore: one SQLite file under the state directory, written
// through prepared statements, one transaction per batch, in WAL mode so the
// API can read while the consumer writes.
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import {
  v1,
  EventKind,
  TcpState,
  toWireEvent,
  type ConnEvent,
  type ConnEventInit,
  type KernelNs,
  type Trace,
  type TraceInit,
  type HopEndpoint,
  parseSocketId,
  type SocketIdentity,
} from "../model/mod.js";
import { silentLogger, type Logger } from "../log/logger.js";
import { decodeCursor, encodeCursor } from "./cursor.js";
import { BadQueryError, StoreClosedError } from "./errors.js";
import { decodeEvent, decodeTrace } from "./plain.js";
import { migrate } from "./schema.js";
import type {
  EventSource,
  PutResult,
  ReplayBatch,
  ReplayQuery,
  RetentionPolicy,
  RetentionResult,
  StoredEvent,
  StoreStats,
  Timeline,
  TimelineQuery,
  TraceFilter,
  TracePage,
  TraceStore,
} from "./store.js";

export const DEFAULT_MAX_AGE_MS = 24 * 3600 * 1000;
export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;
export const DEFAULT_LIST_LIMIT = 100;
export const MAX_LIST_LIMIT = 1000;
export const DEFAULT_TIMELINE_LIMIT = 10_000;
export const DEFAULT_REPLAY_BATCH = 1000;
// Rows read per replay page: large enough to amortize the query, small enough
// that a replay of hours of events never holds them all in memory.
const REPLAY_PAGE = 5000;

// The peer's events and resets no socket sent (NO_SOCKET) carry no socket
// identity we can join on: they are found by 4-tuple within this margin of
// the socket's own events, which covers any realistic RTT on one mesh.
const TUPLE_MARGIN_US = 1_000_000;
/** No upper bound on wall-clock µs (2^53 µs is 285 years: any real time is below). */
const FOREVER_US = Number.MAX_SAFE_INTEGER;
/**
 * No upper bound on kernel ns. Those columns are SQLite INTEGERs (int64) and
 * bound as bigint: 2^53 would cut off every event after 104 days of uptime;
 * int64 max is 292 years.
 */
const FOREVER_NS = (1n << 63n) - 1n;
/** Kernel ns columns read as text: better-sqlite3 would round an INTEGER past 2^53 to a double. */
const TS_NS = "CAST(e.ts_ns AS TEXT) AS ts_ns";

export interface SqliteStoreOptions {
  /** Database file. Default `${TCPTRAIL_STATE_DIR:-/var/lib/tcptrail}/tcptrail.db`; ":memory:" works too. */
  path?: string;
  /** How long a statement waits for a lock held by another connection, ms. Default 5000. */
  busyTimeoutMs?: number;
  /** Default: silent. */
  log?: Logger;
}

/** `${TCPTRAIL_STATE_DIR:-/var/lib/tcptrail}/tcptrail.db` */
export function defaultDatabasePath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.TCPTRAIL_STATE_DIR || "/var/lib/tcptrail", "tcptrail.db");
}

interface EventRow {
  node: string;
  stream_id: number;
  seq: number;
  time_us: number;
  /** Decimal text (TS_NS): exact. */
  ts_ns: string;
  local_ip: string;
  local_port: number;
  remote_ip: string;
  remote_port: number;
  body: Buffer;
}

interface ReplayRow {
  stream_id: number;
  seq: number;
  time_us: number;
  ts_ns: string;
  body: Buffer;
  node: string;
  boot_id: string;
  agent_start_us: number;
}

interface HopRow {
  client_socket: string;
  client_ip: string;
  client_port: number;
  server_socket: string;
  server_ip: string;
  server_port: number;
  start_us: number;
  end_us: number;
}

const EVENT_COLUMNS = `s.node, e.stream_id, e.seq, e.time_us, ${TS_NS}, e.local_ip, e.local_port, e.remote_ip, e.remote_port, e.body`;

export class SqliteTraceStore implements TraceStore {
  readonly path: string;
  // Null once closed: every entry point checks it so use-after-close is a clear error.
  #db: Database.Database | null;
  readonly #log: Logger;
  readonly #s: ReturnType<typeof prepare>;
  readonly #streamIds = new Map<string, number>();
  // listTraces builds its SQL from the filter's shape; a handful of shapes recur.
  readonly #dynamic = new Map<string, Database.Statement>();
  readonly #writeTraces: (traces: (Trace | TraceInit)[]) => PutResult;
  readonly #writeEvents: (streamId: number, events: (ConnEvent | ConnEventInit)[]) => PutResult;

  constructor(opts: SqliteStoreOptions = {}) {
    this.path = opts.path ?? defaultDatabasePath();
    this.#log = opts.log ?? silentLogger;
    if (this.path !== ":memory:") mkdirSync(dirname(this.path), { recursive: true });
    const db = new Database(this.path, { timeout: opts.busyTimeoutMs ?? 5000 });
    try {
      db.pragma("journal_mode = WAL");
      // With WAL, NORMAL survives a process crash; a power cut may lose the last
      // commits, which the durable JetStream consumer re-delivers anyway.
      db.pragma("synchronous = NORMAL");
      db.pragma("temp_store = MEMORY");
      db.pragma("cache_size = -16384");
      migrate(db, this.path);
    } catch (e) {
      db.close();
      throw e;
    }
    this.#db = db;
    this.#s = prepare(db);
    this.#writeTraces = db.transaction((traces) => this.#insertTraces(traces));
    this.#writeEvents = db.transaction((streamId, events) => this.#insertEvents(streamId, events));
    this.#log.debug({ path: this.path }, "trace store opened");
  }

  async putTraces(traces: (Trace | TraceInit)[]): Promise<PutResult> {
    this.#open();
    return this.#writeTraces(traces);
  }

  async putEvents(source: EventSource, events: (ConnEvent | ConnEventInit)[]): Promise<PutResult> {
    this.#open();
    if (events.length === 0) return { written: 0, duplicates: 0 };
    return this.#writeEvents(this.#streamId(source), events);
  }

  async listTraces(filter: TraceFilter = {}): Promise<TracePage> {
    this.#open();
    return this.#list(filter);
  }

  async getTrace(traceId: string): Promise<Trace | null> {
    this.#open();
    const row = this.#s.getTrace.get(traceId) as { body: Buffer } | undefined;
    return row ? decodeTrace(row.body) : null;
  }

  async timeline(query: TimelineQuery): Promise<Timeline> {
    this.#open();
    return this.#timeline(query);
  }

  async retention(policy: RetentionPolicy = {}): Promise<RetentionResult> {
    const db = this.#open();
    const maxAgeMs = policy.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    const maxBytes = policy.maxBytes ?? DEFAULT_MAX_BYTES;
    let deletedTraces = 0;
    let deletedEvents = 0;
    const cutoff = Date.now() * 1000 - maxAgeMs * 1000;
    db.transaction(() => {
      this.#s.deleteHopsBefore.run(cutoff);
      deletedTraces += this.#s.deleteTracesBefore.run(cutoff).changes;
      deletedEvents += this.#s.deleteEventsBefore.run(cutoff).changes;
      this.#s.deleteSocketsBefore.run(cutoff);
    })();
    // Size: drop the same oldest fraction of each table until the live pages
    // fit. Rows are not uniform in size, so this iterates; each round removes
    // at least one row or stops.
    for (let round = 0; round < 64; round++) {
      const bytes = this.#usedBytes();
      if (bytes <= maxBytes) break;
      const fraction = Math.min(1, (bytes - maxBytes) / bytes + 0.01);
      const { traces, events } = this.#counts();
      if (traces + events === 0) break;
      db.transaction(() => {
        const nt = Math.ceil(traces * fraction);
        const ne = Math.ceil(events * fraction);
        this.#s.deleteOldestHops.run(nt);
        deletedTraces += this.#s.deleteOldestTraces.run(nt).changes;
        deletedEvents += this.#s.deleteOldestEvents.run(ne).changes;
        const oldest = this.#s.oldestTrace.get() as { last_us: number | null };
        this.#s.deleteSocketsBefore.run(oldest.last_us ?? FOREVER_US);
      })();
    }
    db.pragma("incremental_vacuum");
    if (this.path !== ":memory:") db.pragma("wal_checkpoint(TRUNCATE)");
    const bytes = this.#usedBytes();
    if (deletedTraces + deletedEvents > 0) {
      this.#log.info({ deletedTraces, deletedEvents, bytes }, "retention deleted old traces and events");
    }
    return { deletedTraces, deletedEvents, bytes };
  }

  async stats(): Promise<StoreStats> {
    this.#open();
    return { ...this.#counts(), bytes: this.#usedBytes() };
  }

  async *replayEvents(query: ReplayQuery): AsyncIterable<ReplayBatch> {
    const batchSize = query.batchSize ?? DEFAULT_REPLAY_BATCH;
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new RangeError("batchSize must be an integer >= 1");
    // Keyset pagination on the events_time index, whose entries are (time_us,
    // stream_id, seq) because the table is clustered on its primary key. Each
    // page is read in full before yielding: an open SQLite cursor would make
    // the connection refuse writes made by the consumer between batches.
    let key = { t: query.sinceUs, sid: -1, seq: -1 };
    for (;;) {
      this.#open();
      const rows = this.#s.replayPage.all({ ...key, limit: REPLAY_PAGE }) as ReplayRow[];
      let batch: ReplayBatch | null = null;
      let batchStream = -1;
      for (const r of rows) {
        if (batch && (r.stream_id !== batchStream || batch.events.length >= batchSize)) {
          yield batch;
          batch = null;
        }
        if (!batch) {
          batch = { source: { node: r.node, bootId: r.boot_id, agentStartUs: r.agent_start_us }, events: [] };
          batchStream = r.stream_id;
        }
        batch.events.push(decodeEvent(r.body, BigInt(r.ts_ns)));
      }
      if (batch) yield batch;
      if (rows.length < REPLAY_PAGE) return;
      const last = rows[rows.length - 1]!;
      key = { t: last.time_us, sid: last.stream_id, seq: last.seq };
    }
  }

  async existingTraceIds(traceIds: readonly string[]): Promise<Set<string>> {
    this.#open();
    const found = new Set<string>();
    for (const id of traceIds) if (this.#s.traceExists.get(id) !== undefined) found.add(id);
    return found;
  }

  async tracesOfSockets(socketIds: readonly string[]): Promise<Map<string, string>> {
    this.#open();
    const found = new Map<string, string>();
    for (const id of socketIds) {
      if (!id || found.has(id)) continue;
      const row = this.#s.traceOfSocket.get(id, id) as { trace_id: string } | undefined;
      if (row) found.set(id, row.trace_id);
    }
    return found;
  }

  async getMeta(key: string): Promise<string | null> {
    this.#open();
    const row = this.#s.getMeta.get(key) as { value: string } | undefined;
    return row ? row.value : null;
  }

  async setMeta(key: string, value: string): Promise<void> {
    this.#open();
    this.#s.setMeta.run(key, value);
  }

  async close(): Promise<void> {
    if (!this.#db) return;
    this.#db.close();
    this.#db = null;
    this.#dynamic.clear();
  }

  #open(): Database.Database {
    if (!this.#db) throw new StoreClosedError();
    return this.#db;
  }

  #usedBytes(): number {
    const db = this.#open();
    const pageSize = db.pragma("page_size", { simple: true }) as number;
    const pages = db.pragma("page_count", { simple: true }) as number;
    const free = db.pragma("freelist_count", { simple: true }) as number;
    return (pages - free) * pageSize;
  }

  #counts(): { traces: number; events: number } {
    return {
      traces: (this.#s.countTraces.get() as { n: number }).n,
      events: (this.#s.countEvents.get() as { n: number }).n,
    };
  }

  #streamId(src: EventSource): number {
    const key = `${src.node}\0${src.bootId}\0${(src.agentStartUs ?? 0)}`;
    let id = this.#streamIds.get(key);
    if (id === undefined) {
      const args = [src.node, src.bootId, (src.agentStartUs ?? 0)];
      this.#s.insertStream.run(...args);
      id = (this.#s.streamId.get(...args) as { id: number }).id;
      this.#streamIds.set(key, id);
    }
    return id;
  }

  #insertEvents(streamId: number, events: (ConnEvent | ConnEventInit)[]): PutResult {
    let written = 0;
    for (const e of events) {
      const seq = (e.seq ?? 0);
      if (seq <= 0) throw new TypeError("an event without seq cannot be stored idempotently");
      const changes = this.#s.insertEvent.run(
        streamId,
        seq,
        (e.timeUs ?? 0),
        e.tsNs,
        e.kind ?? 0,
        e.sock ?? "",
        e.oldState ?? 0,
        e.newState ?? 0,
        e.local?.ip ?? "",
        e.local?.port ?? 0,
        e.remote?.ip ?? "",
        e.remote?.port ?? 0,
        // The body's kernel times are relative to the row's own ts_ns (see decodeEvent).
        v1.ConnEvent.encode(toWireEvent(e, e.tsNs)).finish(),
      ).changes;
      written += changes;
    }
    return { written, duplicates: events.length - written };
  }

  #insertTraces(traces: (Trace | TraceInit)[]): PutResult {
    let written = 0;
    for (const t of traces) {
      const id = t.traceId;
      if (!id) throw new TypeError("a trace without trace_id cannot be stored");
      const existed = this.#s.traceExists.get(id) !== undefined;
      this.#s.deleteHops.run(id);
      const hops = t.hops ?? [];
      const startUs = (t.startUs ?? 0);
      const endUs = (t.endUs ?? 0);
      let lastUs = Math.max(startUs, endUs);
      for (const h of hops) lastUs = Math.max(lastUs, (h.startUs ?? 0), (h.endUs ?? 0));
      this.#s.upsertTrace.run(
        id,
        startUs,
        endUs,
        lastUs,
        t.outcome ?? 0,
        t.resetOrigin?.role ?? 0,
        t.resetOrigin?.pod ?? "",
        hops.length,
        t.explanation ?? "",
        v1.Trace.encode(t).finish(),
      );
      for (const h of hops) {
        const c = h.client ?? {};
        const s = h.server ?? {};
        this.#s.insertHop.run(
          id,
          h.index ?? 0,
          c.socketId ?? "",
          c.ip ?? "",
          c.port ?? 0,
          c.pod ?? "",
          c.role ?? 0,
          s.socketId ?? "",
          s.ip ?? "",
          s.port ?? 0,
          s.pod ?? "",
          s.role ?? 0,
          h.originalDestination?.ip ?? "",
          h.originalDestination?.port ?? 0,
          h.outcome ?? 0,
          h.resetBy ?? "",
          h.resetReason ?? 0,
          h.link ?? "",
          (h.startUs ?? 0),
          (h.endUs ?? 0),
        );
        this.#upsertSocket(c, lastUs);
        this.#upsertSocket(s, lastUs);
      }
      if (existed) continue;
      written++;
    }
    return { written, duplicates: traces.length - written };
  }

  #upsertSocket(ep: HopEndpoint, lastUs: number): void {
    if (!ep.socketId) return;
    const ident = parseSocketId(ep.socketId);
    this.#s.upsertSocket.run(
      ep.socketId,
      ident?.node ?? ep.node ?? "",
      ident?.sock ?? "",
      ident?.birthNs ?? 0n,
      ep.ip ?? "",
      ep.port ?? 0,
      ep.pod ?? "",
      (ep.netns ?? 0),
      ep.role ?? 0,
      ep.leg ?? 0,
      ep.pid ?? 0,
      ep.comm ?? "",
      ep.uid ?? 0,
      lastUs,
    );
  }

  #list(f: TraceFilter): TracePage {
    const limit = f.limit ?? DEFAULT_LIST_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
      throw new BadQueryError("limit", `limit must be an integer between 1 and ${MAX_LIST_LIMIT}`);
    }
    const where: string[] = [];
    const p: Record<string, string | number> = { limit: limit + 1 };
    if (f.since !== undefined) {
      where.push("(t.end_us >= @since OR t.end_us = 0)");
      p.since = f.since;
    }
    if (f.until !== undefined) {
      where.push("t.start_us <= @until");
      p.until = f.until;
    }
    const outcomes = f.outcome === undefined ? [] : Array.isArray(f.outcome) ? f.outcome : [f.outcome];
    if (outcomes.length > 0) {
      where.push(`t.outcome IN (${outcomes.map((_, i) => `@o${i}`).join(", ")})`);
      outcomes.forEach((o, i) => (p[`o${i}`] = o));
    }
    if (f.role !== undefined) {
      where.push("t.origin_role = @role");
      p.role = f.role;
    }
    if (f.pod !== undefined) {
      where.push(
        "t.trace_id IN (SELECT trace_id FROM hops WHERE client_pod = @pod UNION SELECT trace_id FROM hops WHERE server_pod = @pod)",
      );
      p.pod = f.pod;
    }
    const addr = addressCondition(f.ip, f.port);
    if (addr) {
      where.push(addr);
      if (f.ip !== undefined) p.ip = f.ip;
      if (f.port !== undefined) p.port = f.port;
    }
    if (f.cursor !== undefined) {
      const c = decodeCursor(f.cursor);
      where.push("(t.start_us < @cs OR (t.start_us = @cs AND t.trace_id < @ci))");
      p.cs = c.startUs;
      p.ci = c.traceId;
    }
    const sql =
      `SELECT t.trace_id, t.start_us, t.body FROM traces t` +
      (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
      ` ORDER BY t.start_us DESC, t.trace_id DESC LIMIT @limit`;
    const rows = this.#statement(sql).all(p) as { trace_id: string; start_us: number; body: Buffer }[];
    const more = rows.length > limit;
    if (more) rows.pop();
    const last = rows[rows.length - 1];
    return {
      traces: rows.map((r) => decodeTrace(r.body)),
      nextCursor: more && last ? encodeCursor({ startUs: last.start_us, traceId: last.trace_id }) : null,
    };
  }

  #statement(sql: string): Database.Statement {
    let st = this.#dynamic.get(sql);
    if (!st) {
      st = this.#open().prepare(sql);
      this.#dynamic.set(sql, st);
    }
    return st;
  }

  #timeline(q: TimelineQuery): Timeline {
    const limit = q.limit ?? DEFAULT_TIMELINE_LIMIT;
    const since = q.since ?? 0;
    const until = q.until ?? FOREVER_US;
    const found = new Map<string, EventRow>();
    const add = (rows: EventRow[]): void => {
      for (const r of rows) if (r.time_us >= since && r.time_us <= until) found.set(`${r.stream_id}:${r.seq}`, r);
    };
    let traces: Trace[] = [];

    if (q.traceId !== undefined) {
      const hops = this.#s.hopsOfTrace.all(q.traceId) as HopRow[];
      const trace = hops.length ? this.#getTraceSync(q.traceId) : null;
      if (trace) traces = [trace];
      for (const h of hops) {
        for (const id of [h.client_socket, h.server_socket]) if (id) add(this.#socketEvents(id));
        // Untraced ends have no socket id: the hop's own 4-tuple still finds what was seen.
        if (h.client_ip && h.server_ip) {
          const from = h.start_us - TUPLE_MARGIN_US;
          const to = (h.end_us || until) + TUPLE_MARGIN_US;
          add(this.#tupleEvents(h.client_ip, h.client_port, h.server_ip, h.server_port, from, to));
        }
      }
    } else if (q.socketId !== undefined) {
      if (!this.#socketIdentity(q.socketId)) {
        throw new BadQueryError("socket", "socket must be a socket id of the form node/sock/birth_ts");
      }
      const ids = new Set<string>([q.socketId]);
      const traceIds = new Set<string>();
      for (const h of this.#s.hopsOfSocket.all(q.socketId, q.socketId) as (HopRow & { trace_id: string })[]) {
        traceIds.add(h.trace_id);
        if (h.client_socket === q.socketId && h.server_socket) ids.add(h.server_socket);
        if (h.server_socket === q.socketId && h.client_socket) ids.add(h.client_socket);
      }
      for (const id of ids) add(this.#socketEvents(id));
      traces = [...traceIds].map((id) => this.#getTraceSync(id)).filter((t): t is Trace => t !== null);
      traces.sort((a, b) => (b.startUs ?? 0) - (a.startUs ?? 0));
    } else if (q.ip !== undefined) {
      const p = { ip: q.ip, port: q.port ?? 0, since, until, limit: limit + 1 };
      add(this.#s[q.port === undefined ? "eventsByIp" : "eventsByAddr"].all(p) as EventRow[]);
      traces = this.#list({ ip: q.ip, port: q.port, since: q.since, until: q.until, limit: MAX_LIST_LIMIT }).traces;
    } else {
      throw new BadQueryError("socket", "a timeline needs a trace id, a socket id or an ip");
    }

    const rows = [...found.values()].sort(
      (a, b) => a.time_us - b.time_us || (a.node < b.node ? -1 : a.node > b.node ? 1 : compareNs(a.ts_ns, b.ts_ns)),
    );
    const truncated = rows.length > limit;
    const events: StoredEvent[] = rows.slice(0, limit).map((r) => ({ node: r.node, event: decodeEvent(r.body, BigInt(r.ts_ns)) }));
    return { events, traces, truncated };
  }

  #getTraceSync(id: string): Trace | null {
    const row = this.#s.getTrace.get(id) as { body: Buffer } | undefined;
    return row ? decodeTrace(row.body) : null;
  }

  #socketIdentity(socketId: string): SocketIdentity | null {
    const row = this.#s.getSocket.get(socketId) as { node: string; sock: string; birth_ns: string } | undefined;
    if (row && row.sock) return { node: row.node, sock: row.sock, birthNs: BigInt(row.birth_ns) };
    return parseSocketId(socketId);
  }

  /** A socket's own events (until its address is reused) and those answering its 4-tuple. */
  #socketEvents(socketId: string): EventRow[] {
    const ident = this.#socketIdentity(socketId);
    if (!ident) return [];
    const next = this.#s.nextBirth.get({
      node: ident.node,
      sock: ident.sock,
      birth: ident.birthNs,
      kind: EventKind.EVENT_KIND_STATE_CHANGE,
      close: TcpState.TCP_STATE_CLOSE,
      synSent: TcpState.TCP_STATE_SYN_SENT,
      listen: TcpState.TCP_STATE_LISTEN,
      synRecv: TcpState.TCP_STATE_SYN_RECV,
    }) as { ts: string | null };
    const until: KernelNs = next.ts === null ? FOREVER_NS : BigInt(next.ts);
    const own = this.#s.socketEvents.all(ident.sock, ident.node, ident.birthNs, until) as EventRow[];
    const withTuple = own.find((r) => r.local_ip && r.remote_ip);
    if (!withTuple) return own;
    let from = FOREVER_US;
    let to = 0;
    for (const r of own) {
      from = Math.min(from, r.time_us);
      to = Math.max(to, r.time_us);
    }
    const { local_ip, local_port, remote_ip, remote_port } = withTuple;
    return own.concat(
      this.#tupleEvents(local_ip, local_port, remote_ip, remote_port, from - TUPLE_MARGIN_US, to + TUPLE_MARGIN_US),
    );
  }

  /** Events of either direction of a 4-tuple within [from, to]. */
  #tupleEvents(aIp: string, aPort: number, bIp: string, bPort: number, from: number, to: number): EventRow[] {
    const st = this.#s.tupleEvents;
    return (st.all(aIp, aPort, bIp, bPort, from, to) as EventRow[]).concat(
      st.all(bIp, bPort, aIp, aPort, from, to) as EventRow[],
    );
  }
}

/** Order of two kernel times read as decimal text (TS_NS). */
function compareNs(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

function addressCondition(ip: string | undefined, port: number | undefined): string | null {
  const side = (s: "client" | "server"): string | null =>
    ip !== undefined && port !== undefined
      ? `${s}_ip = @ip AND ${s}_port = @port`
      : ip !== undefined
        ? `${s}_ip = @ip`
        : port !== undefined
          ? `${s}_port = @port`
          : null;
  const c = side("client");
  if (!c) return null;
  return `t.trace_id IN (SELECT trace_id FROM hops WHERE ${c} UNION SELECT trace_id FROM hops WHERE ${side("server")})`;
}

function prepare(db: Database.Database) {
  return {
    insertStream: db.prepare(`INSERT OR IGNORE INTO streams (node, boot_id, agent_start_us) VALUES (?, ?, ?)`),
    streamId: db.prepare(`SELECT id FROM streams WHERE node = ? AND boot_id = ? AND agent_start_us = ?`),
    insertEvent: db.prepare(
      `INSERT OR IGNORE INTO events (stream_id, seq, time_us, ts_ns, kind, sock, old_state, new_state,
         local_ip, local_port, remote_ip, remote_port, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    traceExists: db.prepare(`SELECT 1 FROM traces WHERE trace_id = ?`),
    deleteHops: db.prepare(`DELETE FROM hops WHERE trace_id = ?`),
    upsertTrace: db.prepare(
      `INSERT OR REPLACE INTO traces (trace_id, start_us, end_us, last_us, outcome, origin_role, origin_pod,
         hop_count, explanation, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    insertHop: db.prepare(
      `INSERT OR REPLACE INTO hops (trace_id, idx, client_socket, client_ip, client_port, client_pod, client_role,
         server_socket, server_ip, server_port, server_pod, server_role, orig_ip, orig_port, outcome, reset_by,
         reset_reason, link, start_us, end_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    upsertSocket: db.prepare(
      `INSERT INTO sockets (socket_id, node, sock, birth_ns, ip, port, pod, netns, role, leg, pid, comm, uid, last_us)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (socket_id) DO UPDATE SET ip = excluded.ip, port = excluded.port, pod = excluded.pod,
         netns = excluded.netns, role = excluded.role, leg = excluded.leg, pid = excluded.pid, comm = excluded.comm,
         uid = excluded.uid, last_us = max(last_us, excluded.last_us)`,
    ),
    getTrace: db.prepare(`SELECT body FROM traces WHERE trace_id = ?`),
    getSocket: db.prepare(`SELECT node, sock, CAST(birth_ns AS TEXT) AS birth_ns FROM sockets WHERE socket_id = ?`),
    hopsOfTrace: db.prepare(`SELECT * FROM hops WHERE trace_id = ? ORDER BY idx`),
    hopsOfSocket: db.prepare(
      `SELECT * FROM hops WHERE client_socket = ? UNION SELECT * FROM hops WHERE server_socket = ?`,
    ),
    nextBirth: db.prepare(
      `SELECT CAST(min(e.ts_ns) AS TEXT) AS ts FROM events e JOIN streams s ON s.id = e.stream_id
       WHERE e.sock = @sock AND s.node = @node AND e.ts_ns > @birth AND e.kind = @kind
         AND ((e.old_state = @close AND e.new_state IN (@synSent, @listen)) OR (e.old_state = @listen AND e.new_state = @synRecv))`,
    ),
    socketEvents: db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
       WHERE e.sock = ? AND s.node = ? AND e.ts_ns >= ? AND e.ts_ns < ?`,
    ),
    tupleEvents: db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
       WHERE e.local_ip = ? AND e.local_port = ? AND e.remote_ip = ? AND e.remote_port = ? AND e.time_us BETWEEN ? AND ?`,
    ),
    eventsByAddr: db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
         WHERE e.local_ip = @ip AND e.local_port = @port AND e.time_us BETWEEN @since AND @until
       UNION ALL
       SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
         WHERE e.remote_ip = @ip AND e.remote_port = @port AND e.time_us BETWEEN @since AND @until
           AND NOT (e.local_ip = @ip AND e.local_port = @port)
       ORDER BY 4 LIMIT @limit`,
    ),
    eventsByIp: db.prepare(
      `SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
         WHERE e.local_ip = @ip AND e.time_us BETWEEN @since AND @until
       UNION ALL
       SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
         WHERE e.remote_ip = @ip AND e.local_ip != @ip AND e.time_us BETWEEN @since AND @until
       ORDER BY 4 LIMIT @limit`,
    ),
    replayPage: db.prepare(
      `SELECT e.stream_id, e.seq, e.time_us, ${TS_NS}, e.body, s.node, s.boot_id, s.agent_start_us
       FROM events e JOIN streams s ON s.id = e.stream_id
       WHERE e.time_us >= @t AND (e.time_us > @t OR e.stream_id > @sid OR (e.stream_id = @sid AND e.seq > @seq))
       ORDER BY e.time_us, e.stream_id, e.seq LIMIT @limit`,
    ),
    traceOfSocket: db.prepare(
      `SELECT trace_id FROM hops WHERE client_socket = ? UNION ALL SELECT trace_id FROM hops WHERE server_socket = ? LIMIT 1`,
    ),
    getMeta: db.prepare(`SELECT value FROM meta WHERE key = ?`),
    setMeta: db.prepare(`INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`),
    countTraces: db.prepare(`SELECT count(*) AS n FROM traces`),
    countEvents: db.prepare(`SELECT count(*) AS n FROM events`),
    oldestTrace: db.prepare(`SELECT min(last_us) AS last_us FROM traces`),
    deleteHopsBefore: db.prepare(`DELETE FROM hops WHERE trace_id IN (SELECT trace_id FROM traces WHERE last_us < ?)`),
    deleteTracesBefore: db.prepare(`DELETE FROM traces WHERE last_us < ?`),
    deleteEventsBefore: db.prepare(`DELETE FROM events WHERE time_us < ?`),
    deleteSocketsBefore: db.prepare(`DELETE FROM sockets WHERE last_us < ?`),
    deleteOldestHops: db.prepare(
      `DELETE FROM hops WHERE trace_id IN (SELECT trace_id FROM traces ORDER BY last_us LIMIT ?)`,
    ),
    deleteOldestTraces: db.prepare(
      `DELETE FROM traces WHERE trace_id IN (SELECT trace_id FROM traces ORDER BY last_us LIMIT ?)`,
    ),
    deleteOldestEvents: db.prepare(
      `DELETE FROM events WHERE (stream_id, seq) IN (SELECT stream_id, seq FROM events ORDER BY time_us LIMIT ?)`,
    ),
  };
}
