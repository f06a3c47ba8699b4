// A socket's events. A socket is (node, struct sock address, birth time); the
// kernel reuses the address, so its own events run from its birth until the
// next connection is born at the same address. The peer's events and resets
// no socket sent (NO_SOCKET) carry no socket identity to join on: they are
// found by 4-tuple, in either direction, near the socket's own events.
import { EventKind, TcpState, parseSocketId, type KernelNs, type SocketIdentity } from "../../model/mod.js";
import { EVENT_COLUMNS, type EventRow } from "./event-rows.js";
import type { PreparedStatements } from "./statements.js";
import { FOREVER_NS, FOREVER_US } from "./time-columns.js";

// The margin around a socket's own events within which its 4-tuple's events
// count as its own: covers any realistic RTT on one mesh.
export const TUPLE_MARGIN_US = 1_000_000;

const GET_SOCKET = `SELECT node, sock, CAST(birth_ns AS TEXT) AS birth_ns FROM sockets WHERE socket_id = ?`;
const NEXT_BIRTH = `SELECT CAST(min(e.ts_ns) AS TEXT) AS ts FROM events e JOIN streams s ON s.id = e.stream_id
       WHERE e.sock = @sock AND s.node = @node AND e.ts_ns > @birth AND e.kind = @kind
         AND ((e.old_state = @close AND e.new_state IN (@synSent, @listen)) OR (e.old_state = @listen AND e.new_state = @synRecv))`;
const SOCKET_EVENTS = `SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
       WHERE e.sock = ? AND s.node = ? AND e.ts_ns >= ? AND e.ts_ns < ?`;
const TUPLE_EVENTS = `SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
       WHERE e.local_ip = ? AND e.local_port = ? AND e.remote_ip = ? AND e.remote_port = ? AND e.time_us BETWEEN ? AND ?`;

/** The identity of a stored socket, or of a well-formed socket id never stored; null for anything else. */
export function socketIdentity(statements: PreparedStatements, socketId: string): SocketIdentity | null {
  const row = statements.get(GET_SOCKET).get(socketId) as { node: string; sock: string; birth_ns: string } | undefined;
  if (row && row.sock) return { node: row.node, sock: row.sock, birthNs: BigInt(row.birth_ns) };
  return parseSocketId(socketId);
}

/** A socket's own events (until its address is reused) and those answering its 4-tuple. */
export function socketEvents(statements: PreparedStatements, socketId: string): EventRow[] {
  const ident = socketIdentity(statements, socketId);
  if (!ident) return [];
  const next = statements.get(NEXT_BIRTH).get({
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
  const own = statements.get(SOCKET_EVENTS).all(ident.sock, ident.node, ident.birthNs, until) as EventRow[];
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
    tupleEvents(statements, local_ip, local_port, remote_ip, remote_port, from - TUPLE_MARGIN_US, to + TUPLE_MARGIN_US),
  );
}

/** Events of either direction of a 4-tuple within [from, to]. */
export function tupleEvents(
  statements: PreparedStatements,
  aIp: string,
  aPort: number,
  bIp: string,
  bPort: number,
  from: number,
  to: number,
): EventRow[] {
  const st = statements.get(TUPLE_EVENTS);
  return (st.all(aIp, aPort, bIp, bPort, from, to) as EventRow[]).concat(st.all(bIp, bPort, aIp, aPort, from, to) as EventRow[]);
}
