// One connection's events across every node, with the traces they belong to:
// found by trace (every socket of every hop), by socket (it and its hop peer)
// or by endpoint (either end of the connection, exact address and port).
// Sockets are found by their identity (node/sock/birth), never by guessing
// from addresses: under churn many connections share a client address.
//
// Raw events come from the ring (event_batches), read by time window: a
// socket's window is when its hops say it lived (socket-window.ts). Traces
// come from the trace store (lookup.ts, list.ts). A socket whose raw events
// retention already cut gets them rebuilt from its hop (hop-summary.ts), and
// the timeline says so (`summarized`).
import { parseSocketId, type Trace } from "../../model/mod.js";
import { BadQueryError } from "../errors.js";
import type { Timeline, TimelineQuery, TraceFilter, TracePage } from "../store.js";
import { EventRing, type RingReader } from "./event-ring.js";
import { eventsHorizonUs } from "./event-retention.js";
import { compareEventRows, endpointProbe, eventKey, MAX_ROW_SPAN_US, toStoredEvent, type EventRow, type RowProbe } from "./event-rows.js";
import { summarizeHopEnd } from "./hop-summary.js";
import { listTraces } from "./list.js";
import { getTrace, tracesOfSocket } from "./lookup.js";
import { DEFAULT_TIMELINE_LIMIT, MAX_LIST_LIMIT } from "./options.js";
import { isOwn, pairedSocketEvents, socketEvents, socketlessTupleEvents, type SocketWindow } from "./socket-events.js";
import { hopsNaming, sideOf, windowFromBirth, windowFromHops, type StoredHop } from "./socket-window.js";
import type { PreparedStatements } from "./statements.js";
import { FOREVER_US } from "./time-columns.js";

/**
 * What a timeline reads, synchronously: the raw events and the stored traces.
 * The SQLite store answers from its file; another store (PostgreSQL) reads
 * what the query needs first and answers from memory.
 */
export interface TimelineSource {
  ring: RingReader;
  getTrace(traceId: string): Trace | null;
  /** Every stored trace with a hop endpoint of this socket id, newest start first. */
  tracesOfSocket(socketId: string): Trace[];
  listTraces(filter: TraceFilter): TracePage;
  /** Wall µs up to which retention has deleted raw events; 0 when never. */
  eventsHorizonUs(): number;
}

export function readTimeline(statements: PreparedStatements, q: TimelineQuery): Timeline {
  return buildTimeline(
    {
      ring: new EventRing(statements),
      getTrace: (id) => getTrace(statements, id),
      tracesOfSocket: (id) => tracesOfSocket(statements, id),
      listTraces: (f) => listTraces(statements, f),
      eventsHorizonUs: () => eventsHorizonUs(statements),
    },
    q,
  );
}

/** The timeline of `q` from any store's events and traces (see TimelineSource). */
export function buildTimeline(source: TimelineSource, q: TimelineQuery): Timeline {
  const limit = q.limit ?? DEFAULT_TIMELINE_LIMIT;
  const since = q.since ?? 0;
  const until = q.until ?? FOREVER_US;
  const { ring } = source;
  // Keyed by event identity: the same event is reached from several sockets and tuples.
  const found = new Map<string, EventRow>();
  const add = (rows: EventRow[]): void => {
    for (const r of rows) if (r.event.timeUs >= since && r.event.timeUs <= until) found.set(eventKey(r), r);
  };
  const summary = new Summary(source.eventsHorizonUs(), since, until);
  // Where a hop that has not ended reaches: the query's end, or the ring's newest event.
  const openEndUs = q.until ?? ring.newestUs() ?? 0;
  let traces: Trace[] = [];
  // The newest `limit` events of an endpoint, rather than its oldest, when no start was asked for.
  let newestFirst = false;

  if (q.traceId !== undefined) {
    const trace = source.getTrace(q.traceId);
    if (trace) traces = [trace];
    for (const h of trace?.hops ?? []) {
      // Both ends traced: exactly their sockets' events. One end untraced: the
      // traced end's socket also brings what shares its exact tuple during its life.
      const both = Boolean(h.client?.socketId && h.server?.socketId);
      for (const side of ["client", "server"] as const) {
        const id = (side === "client" ? h.client : h.server)?.socketId;
        const ident = id ? parseSocketId(id) : null;
        if (!id || !ident) continue;
        // Within this trace the hop in hand is when the socket mattered (a pooled
        // upstream socket lives across many traces; this one is about this hop).
        const w = windowFromHops([h], openEndUs) ?? windowFromBirth(ring, ident);
        const rows = w ? (both ? pairedSocketEvents(ring, ident, w) : socketEvents(ring, ident, w)) : [];
        add(rows);
        summary.hopEnd(h, side, rows);
      }
      // Resets no socket sent (NO_SOCKET) carry no identity: the hop's own full 4-tuple finds them.
      const c = h.client;
      const s = h.server;
      const hopWindow = { from: h.startUs ?? 0, to: h.endUs || until };
      add(socketlessTupleEvents(ring, { aIp: c?.ip ?? "", aPort: c?.port ?? 0, bIp: s?.ip ?? "", bPort: s?.port ?? 0, ...hopWindow }));
    }
  } else if (q.socketId !== undefined) {
    const ident = parseSocketId(q.socketId);
    if (!ident) throw new BadQueryError("socket must be a socket id of the form node/sock/birth_ts", { param: "socket" });
    traces = source.tracesOfSocket(q.socketId);
    traces.sort((a, b) => (b.startUs ?? 0) - (a.startUs ?? 0));
    const hops = hopsNaming(traces, q.socketId);
    // In a trace, the hop names the peer by identity; alone, the peer is found by tuple.
    const ids = new Set<string>([q.socketId]);
    for (const h of hops) {
      const peer = sideOf(h, q.socketId) === "client" ? h.server?.socketId : h.client?.socketId;
      if (peer) ids.add(peer);
    }
    const windowOf = (id: string): SocketWindow | null => {
      const own = parseSocketId(id);
      if (!own) return null;
      return windowFromHops(hopsNaming(traces, id), openEndUs) ?? windowFromBirth(ring, own);
    };
    const rowsById = new Map<string, EventRow[]>();
    for (const id of ids) {
      const own = parseSocketId(id);
      const w = windowOf(id);
      if (!own || !w) continue;
      const rows = ids.size > 1 ? pairedSocketEvents(ring, own, w) : socketEvents(ring, own, w);
      rowsById.set(id, rows);
      add(rows);
    }
    for (const h of hops) {
      for (const side of ["client", "server"] as const) {
        const id = (side === "client" ? h.client : h.server)?.socketId;
        if (id) summary.hopEnd(h, side, rowsById.get(id) ?? []);
      }
    }
  } else if (q.ip !== undefined) {
    const { ip, port } = q;
    newestFirst = q.since === undefined;
    const matches = (r: EventRow): boolean => {
      const { local, remote } = r.event;
      return port === undefined
        ? local?.ip === ip || remote?.ip === ip
        : (local?.ip === ip && local.port === port) || (remote?.ip === ip && remote.port === port);
    };
    add(endpointEvents(ring, endpointProbe(ip, port), matches, { since, until, limit, newestFirst }));
    traces = source.listTraces({ ip, port, since: q.since, until: q.until, limit: MAX_LIST_LIMIT }).traces;
    const own = [...found.values()];
    for (const t of traces) {
      for (const h of t.hops) {
        const at = (ep: StoredHop["client"]): boolean => ep?.ip === ip && (port === undefined || ep.port === port);
        if (!at(h.client) && !at(h.server)) continue;
        for (const side of ["client", "server"] as const) summary.hopEnd(h, side, own);
      }
    }
  } else {
    throw new BadQueryError("a timeline needs a trace id, a socket id or an ip", { param: "socket" });
  }

  // Wall-clock time orders events across nodes; on one node the kernel clock is finer and exact.
  const rows = [...found.values(), ...summary.rows].sort(compareEventRows);
  const truncated = rows.length > limit || ring.cut;
  const kept = newestFirst ? rows.slice(Math.max(0, rows.length - limit)) : rows.slice(0, limit);
  return { events: kept.map(toStoredEvent), traces, truncated, summarized: summary.rows.length > 0 };
}

/**
 * Events rebuilt from hops for sockets whose raw events retention cut: only a
 * hop that began before the ring's horizon can have lost any, and only what
 * happened before the socket's first surviving event is missing (retention
 * cuts the oldest), so only that part is rebuilt.
 */
class Summary {
  readonly rows: EventRow[] = [];
  readonly #horizonUs: number;
  readonly #since: number;
  readonly #until: number;
  readonly #done = new Set<string>();

  constructor(horizonUs: number, since: number, until: number) {
    this.#horizonUs = horizonUs;
    this.#since = since;
    this.#until = until;
  }

  /** `found`: the raw events found for this end (its own are picked out by identity). */
  hopEnd(hop: StoredHop, side: "client" | "server", found: readonly EventRow[]): void {
    const start = hop.startUs ?? 0;
    if (!(start > 0) || start >= this.#horizonUs) return;
    const id = (side === "client" ? hop.client : hop.server)?.socketId;
    const ident = id ? parseSocketId(id) : null;
    if (!id || !ident || this.#done.has(`${hop.index}/${id}`)) return;
    this.#done.add(`${hop.index}/${id}`);
    let firstOwnUs = FOREVER_US;
    for (const r of found) if (isOwn(r, ident, ident.birthNs)) firstOwnUs = Math.min(firstOwnUs, r.event.timeUs);
    for (const r of summarizeHopEnd(hop, side)) {
      const t = r.event.timeUs;
      if (t < firstOwnUs && t >= this.#since && t <= this.#until) this.rows.push(r);
    }
  }
}

/**
 * An endpoint's events (either end of any connection through it) between
 * since and until, oldest first, or newest first when no start was given;
 * reading stops once `limit` + 1 are certain (no unread row can hold one that
 * sorts before them) or at the ring's row budget.
 */
function endpointEvents(
  ring: RingReader,
  probe: RowProbe,
  matches: (r: EventRow) => boolean,
  o: { since: number; until: number; limit: number; newestFirst: boolean },
): EventRow[] {
  const out: EventRow[] = [];
  // Once limit + 1 events are in, the (limit+1)-th best time: rows beyond it cannot improve the answer.
  let bound: number | null = null;
  ring.scan({ from: o.since, to: o.until, newestFirst: o.newestFirst }, probe, (rows, row) => {
    if (bound !== null && (o.newestFirst ? row.last_us < bound : row.last_us > bound + MAX_ROW_SPAN_US)) return false;
    for (const r of rows ?? []) if (r.event.timeUs >= o.since && r.event.timeUs <= o.until && matches(r)) out.push(r);
    if (bound === null && out.length > o.limit) {
      const times = out.map((r) => r.event.timeUs).sort((a, b) => a - b);
      bound = o.newestFirst ? times[times.length - 1 - o.limit]! : times[o.limit]!;
    }
    return true;
  });
  return out;
}
