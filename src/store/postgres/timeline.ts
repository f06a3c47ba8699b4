// A connection's timeline from PostgreSQL. The logic that decides which
// events are the connection's (socket identity, address reuse, the peer by
// tuple during the socket's life, hop summaries for events retention cut)
// is the SQLite store's (buildTimeline); this file reads, asynchronously and
// through the indexes, every event that logic could look at, and hands it
// over in a MemoryRing:
//   - a socket's own events: (node, sock) from its birth (kernel ns), within
//     its hops' window widened by the tuple margins when a hop names it;
//   - events on any address those events or the hops show (local or remote),
//     within the same widened window: the peer and NO_SOCKET resets;
//   - for an endpoint timeline, that endpoint's events, limit + 1 of them.
import { parseSocketId, type Trace } from "../../model/mod.js";
import type { Timeline, TimelineQuery, TracePage } from "../store.js";
import { EVENTS_HORIZON_KEY } from "../sqlite/event-retention.js";
import type { EventRow } from "../sqlite/event-rows.js";
import { DEFAULT_TIMELINE_LIMIT, MAX_LIST_LIMIT } from "../sqlite/options.js";
import { TUPLE_MARGIN_US } from "../sqlite/socket-events.js";
import { hopsNaming, sideOf } from "../sqlite/socket-window.js";
import { buildTimeline } from "../sqlite/timeline.js";
import { FOREVER_US } from "../sqlite/time-columns.js";
import type { PgConnection } from "./connection.js";
import { EVENT_COLUMNS, eventRowOf, type EventRecord } from "./event-rows.js";
import { listTraces } from "./list.js";
import { getMeta } from "./meta.js";
import { getTrace, tracesOfSocket } from "./lookup.js";
import { MemoryRing } from "./memory-ring.js";

/** Events one preload query may return: past it the timeline says truncated (the SQLite ring's row budget, in events). */
export const TIMELINE_PRELOAD_ROWS = 50_000;
// Twice the tuple margin: the window logic widens by one margin, tuple matches by another.
const WIDEN_US = 2 * TUPLE_MARGIN_US;

const NEWEST_US = `SELECT max(time_us) AS us FROM events`;
const OWN_EVENTS = `SELECT ${EVENT_COLUMNS} FROM events ev
   WHERE ev.node = $1 AND ev.sock = $2 AND ev.ts_ns >= $3::int8 AND ev.time_us BETWEEN $4 AND $5
   ORDER BY ev.ts_ns LIMIT $6`;
const ADDRESS_EVENTS = `SELECT ${EVENT_COLUMNS} FROM events ev
   WHERE ev.time_us BETWEEN $3 AND $4 AND (
     (ev.local_ip, ev.local_port) IN (SELECT * FROM unnest($1::text[], $2::int4[])) OR
     (ev.remote_ip, ev.remote_port) IN (SELECT * FROM unnest($1::text[], $2::int4[])))
   LIMIT $5`;

class Preload {
  readonly rows = new Map<string, EventRow>();
  cut = false;

  add(records: EventRecord[]): EventRow[] {
    if (records.length >= TIMELINE_PRELOAD_ROWS) this.cut = true;
    const out: EventRow[] = [];
    for (const rec of records) {
      const r = eventRowOf(rec);
      if (!r) continue;
      this.rows.set(`${r.streamId}:${r.event.seq}`, r);
      out.push(r);
    }
    return out;
  }
}

export async function readTimeline(db: PgConnection, q: TimelineQuery): Promise<Timeline> {
  const limit = q.limit ?? DEFAULT_TIMELINE_LIMIT;
  const [newest, horizon] = await Promise.all([db.query<{ us: number | null }>(NEWEST_US), getMeta(db, EVENTS_HORIZON_KEY)]);
  const newestUs = newest[0]?.us ?? null;
  const openEndUs = q.until ?? newestUs ?? 0;
  const pre = new Preload();
  let traces: Trace[] = [];
  let listed: TracePage = { traces: [], nextCursor: null };

  if (q.traceId !== undefined) {
    const t = await getTrace(db, q.traceId);
    if (t) traces = [t];
    await preloadSockets(db, pre, traces, socketIdsOf(traces), openEndUs);
  } else if (q.socketId !== undefined && parseSocketId(q.socketId)) {
    traces = await tracesOfSocket(db, q.socketId);
    const ids = new Set([q.socketId]);
    for (const h of hopsNaming(traces, q.socketId)) {
      const peer = sideOf(h, q.socketId) === "client" ? h.server?.socketId : h.client?.socketId;
      if (peer) ids.add(peer);
    }
    await preloadSockets(db, pre, traces, ids, openEndUs);
  } else if (q.ip !== undefined && q.socketId === undefined) {
    const { ip, port } = q;
    const since = q.since ?? 0;
    const until = q.until ?? FOREVER_US;
    // The newest events when no start was asked for, the oldest from a start (as buildTimeline keeps them).
    const order = q.since === undefined ? "DESC" : "ASC";
    // $2 is bound either way (typed here, since the address-only form does not use it).
    const match = port === undefined ? `(ev.local_ip = $1 OR ev.remote_ip = $1) AND $2::int4 IS NOT NULL` : `((ev.local_ip = $1 AND ev.local_port = $2) OR (ev.remote_ip = $1 AND ev.remote_port = $2))`;
    const sql = `SELECT ${EVENT_COLUMNS} FROM events ev WHERE ${match} AND ev.time_us BETWEEN $3 AND $4
       ORDER BY ev.time_us ${order}, ev.stream_id ${order}, ev.seq ${order} LIMIT $5`;
    pre.add(await db.query<EventRecord>(sql, [ip, port ?? 0, since, until, limit + 1]));
    listed = await listTraces(db, { ip, port, since: q.since, until: q.until, limit: MAX_LIST_LIMIT });
  }

  const byId = new Map(traces.map((t) => [t.traceId, t]));
  return buildTimeline(
    {
      ring: new MemoryRing(pre.rows.values(), newestUs, pre.cut),
      getTrace: (id) => byId.get(id) ?? null,
      tracesOfSocket: () => traces,
      listTraces: () => listed,
      eventsHorizonUs: () => {
        const n = horizon === null ? 0 : Number(horizon);
        return Number.isSafeInteger(n) ? n : 0;
      },
    },
    q,
  );
}

function socketIdsOf(traces: readonly Trace[]): Set<string> {
  const ids = new Set<string>();
  for (const t of traces) for (const h of t.hops) for (const e of [h.client, h.server]) if (e?.socketId) ids.add(e.socketId);
  return ids;
}

/** Each socket's own events, then every event on an address they or the hops show, in the widened window. */
async function preloadSockets(db: PgConnection, pre: Preload, traces: readonly Trace[], ids: ReadonlySet<string>, openEndUs: number): Promise<void> {
  let lo = FOREVER_US;
  let hi = 0;
  const addrs = new Map<string, [string, number]>();
  const addAddr = (ip: string | null | undefined, port: number | null | undefined): void => {
    if (ip && port && port > 0) addrs.set(`${ip}:${port}`, [ip, port]);
  };
  for (const id of ids) {
    const ident = parseSocketId(id);
    if (!ident) continue;
    // When the hops naming it say it lived; a socket no hop dates is found from its birth, unbounded.
    let from = 0;
    let to = FOREVER_US;
    const hops = hopsNaming(traces, id).filter((h) => (h.startUs ?? 0) > 0);
    if (hops.length > 0) {
      from = Math.min(...hops.map((h) => h.startUs!)) - WIDEN_US;
      to = Math.max(...hops.map((h) => ((h.endUs ?? 0) > 0 ? h.endUs! : Math.max(openEndUs, h.startUs!)))) + WIDEN_US;
    }
    for (const h of hops) {
      addAddr(h.client?.ip, h.client?.port);
      addAddr(h.server?.ip, h.server?.port);
    }
    const own = pre.add(
      await db.query<EventRecord>(OWN_EVENTS, [ident.node, ident.sock, ident.birthNs.toString(), from, to, TIMELINE_PRELOAD_ROWS]),
    );
    for (const r of own) {
      lo = Math.min(lo, r.event.timeUs);
      hi = Math.max(hi, r.event.timeUs);
      addAddr(r.event.local?.ip, r.event.local?.port);
      addAddr(r.event.remote?.ip, r.event.remote?.port);
    }
    if (hops.length > 0) {
      lo = Math.min(lo, from);
      hi = Math.max(hi, to);
    }
  }
  if (addrs.size === 0 || hi === 0) return;
  const [ips, ports] = [[...addrs.values()].map((a) => a[0]), [...addrs.values()].map((a) => a[1])];
  pre.add(await db.query<EventRecord>(ADDRESS_EVENTS, [ips, ports, lo - WIDEN_US, hi + WIDEN_US, TIMELINE_PRELOAD_ROWS]));
}
