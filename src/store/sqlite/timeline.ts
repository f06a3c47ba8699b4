// One connection's events across every node, with the traces they belong to:
// found by trace (every socket of every hop), by socket (it and its hop peer)
// or by endpoint (either end of the connection, exact address and port).
// Sockets are found by their identity (node/sock/birth), never by guessing
// from addresses: under churn many connections share a client address.
import type { Trace } from "../../model/mod.js";
import { BadQueryError } from "../errors.js";
import type { Timeline, TimelineQuery } from "../store.js";
import { toStoredEvent, type EventRow, EVENT_COLUMNS } from "./event-rows.js";
import { listTraces } from "./list.js";
import { getTrace } from "./lookup.js";
import { DEFAULT_TIMELINE_LIMIT, MAX_LIST_LIMIT } from "./options.js";
import { pairedSocketEvents, socketEvents, socketIdentity, socketlessTupleEvents } from "./socket-events.js";
import type { PreparedStatements } from "./statements.js";
import { FOREVER_US, compareNs } from "./time-columns.js";

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

const HOPS_OF_TRACE = `SELECT * FROM hops WHERE trace_id = ? ORDER BY idx`;
const HOPS_OF_SOCKET = `SELECT * FROM hops WHERE client_socket = ? UNION SELECT * FROM hops WHERE server_socket = ?`;
// Either end of the connection: rows with the endpoint as local address, then
// as remote address minus those the first half already returned.
const EVENTS_BY_ADDR = `SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
         WHERE e.local_ip = @ip AND e.local_port = @port AND e.time_us BETWEEN @since AND @until
       UNION ALL
       SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
         WHERE e.remote_ip = @ip AND e.remote_port = @port AND e.time_us BETWEEN @since AND @until
           AND NOT (e.local_ip = @ip AND e.local_port = @port)
       ORDER BY 4 LIMIT @limit`;
const EVENTS_BY_IP = `SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
         WHERE e.local_ip = @ip AND e.time_us BETWEEN @since AND @until
       UNION ALL
       SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
         WHERE e.remote_ip = @ip AND e.local_ip != @ip AND e.time_us BETWEEN @since AND @until
       ORDER BY 4 LIMIT @limit`;

export function readTimeline(statements: PreparedStatements, q: TimelineQuery): Timeline {
  const limit = q.limit ?? DEFAULT_TIMELINE_LIMIT;
  const since = q.since ?? 0;
  const until = q.until ?? FOREVER_US;
  // Keyed by event identity: the same event is reached from several sockets and tuples.
  const found = new Map<string, EventRow>();
  const add = (rows: EventRow[]): void => {
    for (const r of rows) if (r.time_us >= since && r.time_us <= until) found.set(`${r.stream_id}:${r.seq}`, r);
  };
  let traces: Trace[] = [];

  if (q.traceId !== undefined) {
    const hops = statements.get(HOPS_OF_TRACE).all(q.traceId) as HopRow[];
    const trace = hops.length ? getTrace(statements, q.traceId) : null;
    if (trace) traces = [trace];
    for (const h of hops) {
      // Both ends traced: exactly their sockets' events. One end untraced: the
      // traced end's socket also brings what shares its exact tuple during its life.
      const both = Boolean(h.client_socket && h.server_socket);
      for (const id of [h.client_socket, h.server_socket]) if (id) add(both ? pairedSocketEvents(statements, id) : socketEvents(statements, id));
      // Resets no socket sent (NO_SOCKET) carry no identity: the hop's own full 4-tuple finds them.
      const hopWindow = { from: h.start_us, to: h.end_us || until };
      add(socketlessTupleEvents(statements, { aIp: h.client_ip, aPort: h.client_port, bIp: h.server_ip, bPort: h.server_port, ...hopWindow }));
    }
  } else if (q.socketId !== undefined) {
    if (!socketIdentity(statements, q.socketId)) {
      throw new BadQueryError("socket must be a socket id of the form node/sock/birth_ts", { param: "socket" });
    }
    const ids = new Set<string>([q.socketId]);
    const traceIds = new Set<string>();
    for (const h of statements.get(HOPS_OF_SOCKET).all(q.socketId, q.socketId) as (HopRow & { trace_id: string })[]) {
      traceIds.add(h.trace_id);
      if (h.client_socket === q.socketId && h.server_socket) ids.add(h.server_socket);
      if (h.server_socket === q.socketId && h.client_socket) ids.add(h.client_socket);
    }
    // In a trace, the hop names the peer by identity; alone, the peer is found by tuple.
    if (ids.size > 1) for (const id of ids) add(pairedSocketEvents(statements, id));
    else add(socketEvents(statements, q.socketId));
    traces = [...traceIds].map((id) => getTrace(statements, id)).filter((t): t is Trace => t !== null);
    traces.sort((a, b) => (b.startUs ?? 0) - (a.startUs ?? 0));
  } else if (q.ip !== undefined) {
    const p = { ip: q.ip, port: q.port ?? 0, since, until, limit: limit + 1 };
    add(statements.get(q.port === undefined ? EVENTS_BY_IP : EVENTS_BY_ADDR).all(p) as EventRow[]);
    traces = listTraces(statements, { ip: q.ip, port: q.port, since: q.since, until: q.until, limit: MAX_LIST_LIMIT }).traces;
  } else {
    throw new BadQueryError("a timeline needs a trace id, a socket id or an ip", { param: "socket" });
  }

  // Wall-clock time orders events across nodes; on one node the kernel clock is finer and exact.
  const rows = [...found.values()].sort(
    (a, b) => a.time_us - b.time_us || (a.node < b.node ? -1 : a.node > b.node ? 1 : compareNs(a.ts_ns, b.ts_ns)),
  );
  const truncated = rows.length > limit;
  return { events: rows.slice(0, limit).map(toStoredEvent), traces, truncated };
}
