// A socket's events. A socket is (node, struct sock address, birth time); the
// kernel reuses the address, so its own events run from its birth until the
// next connection is born at the same address. The peer's events and resets
// no socket sent (NO_SOCKET) carry no socket identity to join on: they are
// found by 4-tuple, in either direction, near the socket's own events.
//
// A 4-tuple is only an identity when both ports are known: a connecting
// socket's first event (CLOSE → SYN_SENT) fires before the kernel picks its
// local port, so its tuple reads ip:0, which every connection from that
// address to that server shares (210 events for one hop under a 200 conns/s
// loop). And even a full tuple is reused under churn: the client port comes
// back as soon as the server closed first. So a tuple match counts only for
// events with no socket, or of a socket that lived while this one did.
import { EventKind, TcpState, parseSocketId, type KernelNs, type SocketIdentity } from "../../model/mod.js";
import { EVENT_COLUMNS, type EventRow } from "./event-rows.js";
import type { PreparedStatements } from "./statements.js";
import { FOREVER_NS, FOREVER_US } from "./time-columns.js";

// The margin around a socket's own events within which its 4-tuple's events
// count as its own: covers any realistic RTT on one mesh.
export const TUPLE_MARGIN_US = 1_000_000;

const GET_SOCKET = `SELECT node, sock, CAST(birth_ns AS TEXT) AS birth_ns FROM sockets WHERE socket_id = ?`;
const FIRST_OWN = `SELECT CAST(min(e.ts_ns) AS TEXT) AS ts FROM events e JOIN streams s ON s.id = e.stream_id
       WHERE e.sock = ? AND s.node = ? AND e.ts_ns >= ?`;
const NEXT_BIRTH = `SELECT CAST(min(e.ts_ns) AS TEXT) AS ts FROM events e JOIN streams s ON s.id = e.stream_id
       WHERE e.sock = @sock AND s.node = @node AND e.ts_ns > @birth AND e.kind = @kind
         AND ((e.old_state = @close AND e.new_state IN (@synSent, @listen)) OR (e.old_state = @listen AND e.new_state = @synRecv))`;
const SOCKET_EVENTS = `SELECT ${EVENT_COLUMNS} FROM events e JOIN streams s ON s.id = e.stream_id
       WHERE e.sock = ? AND s.node = ? AND e.ts_ns >= ? AND e.ts_ns < ?`;
const TUPLE_EVENTS = `SELECT ${EVENT_COLUMNS}, e.sock AS sock FROM events e JOIN streams s ON s.id = e.stream_id
       WHERE e.local_ip = ? AND e.local_port = ? AND e.remote_ip = ? AND e.remote_port = ? AND e.time_us BETWEEN ? AND ?`;

/** The identity of a stored socket, or of a well-formed socket id never stored; null for anything else. */
export function socketIdentity(statements: PreparedStatements, socketId: string): SocketIdentity | null {
  const row = statements.get(GET_SOCKET).get(socketId) as { node: string; sock: string; birth_ns: string } | undefined;
  if (row && row.sock) return { node: row.node, sock: row.sock, birthNs: BigInt(row.birth_ns) };
  return parseSocketId(socketId);
}

/** A tuple-matched row: which socket (if any) it came from. */
export interface TupleRow extends EventRow {
  sock: string;
}

/** NO_SOCKET resets and other events that name no socket: "" as written, "0" as some probes print a null pointer. */
const hasNoSocket = (r: TupleRow): boolean => r.sock === "" || r.sock === "0";

/** The first row whose 4-tuple is complete (both ports known); undefined when none is. */
export function fullTupleOf(rows: EventRow[]): EventRow | undefined {
  return rows.find((r) => r.local_ip && r.remote_ip && r.local_port > 0 && r.remote_port > 0);
}

/** A socket's own events, from its birth until its address is reused; [] for an unknown socket. */
export function ownSocketEvents(statements: PreparedStatements, socketId: string): EventRow[] {
  const ident = socketIdentity(statements, socketId);
  if (!ident) return [];
  // The next connection at this address is born after this socket's first
  // event, not after the id's birth: an id whose birth is a little before its
  // own birth event (a fixture, an id built from another clock) still owns it.
  const first = statements.get(FIRST_OWN).get(ident.sock, ident.node, ident.birthNs) as { ts: string | null };
  if (first.ts === null) return [];
  const next = statements.get(NEXT_BIRTH).get({
    node: ident.node,
    sock: ident.sock,
    birth: BigInt(first.ts),
    kind: EventKind.EVENT_KIND_STATE_CHANGE,
    close: TcpState.TCP_STATE_CLOSE,
    synSent: TcpState.TCP_STATE_SYN_SENT,
    listen: TcpState.TCP_STATE_LISTEN,
    synRecv: TcpState.TCP_STATE_SYN_RECV,
  }) as { ts: string | null };
  const until: KernelNs = next.ts === null ? FOREVER_NS : BigInt(next.ts);
  return statements.get(SOCKET_EVENTS).all(ident.sock, ident.node, ident.birthNs, until) as EventRow[];
}

/**
 * A socket's own events (until its address is reused) and those answering its
 * exact 4-tuple: its untraced peer's and NO_SOCKET resets. A socket that
 * shares the tuple counts only if its events overlap this socket's life
 * (the peer); one that ended before this socket was born, or was born after
 * it died, is another connection that reused the tuple.
 */
export function socketEvents(statements: PreparedStatements, socketId: string): EventRow[] {
  return withTupleEvents(statements, socketId, true);
}

/**
 * A socket whose peer is known by identity (both ends of a hop traced): its
 * own events and the NO_SOCKET resets on its exact tuple during its life,
 * nothing from any other socket.
 */
export function pairedSocketEvents(statements: PreparedStatements, socketId: string): EventRow[] {
  return withTupleEvents(statements, socketId, false);
}

function withTupleEvents(statements: PreparedStatements, socketId: string, peers: boolean): EventRow[] {
  const own = ownSocketEvents(statements, socketId);
  const withTuple = fullTupleOf(own);
  if (!withTuple) return own;
  let from = FOREVER_US;
  let to = 0;
  for (const r of own) {
    from = Math.min(from, r.time_us);
    to = Math.max(to, r.time_us);
  }
  const { node, local_ip, local_port, remote_ip, remote_port } = withTuple;
  const ownSock = (statements.get(GET_SOCKET).get(socketId) as { sock: string } | undefined)?.sock ?? parseSocketId(socketId)?.sock;
  const rows = tupleEvents(statements, {
    aIp: local_ip,
    aPort: local_port,
    bIp: remote_ip,
    bPort: remote_port,
    from: from - TUPLE_MARGIN_US,
    to: to + TUPLE_MARGIN_US,
  });
  const spans = socketSpans(rows);
  const overlaps = (r: TupleRow): boolean => {
    // This socket's address on its node: its own rows are already in `own`, the others are a reuse.
    if (r.node === node && r.sock === ownSock) return false;
    const span = spans.get(spanKey(r))!;
    return span[0] <= to && span[1] >= from;
  };
  return own.concat(socketlessWithin(rows, spans, from, to), peers ? rows.filter((r) => !hasNoSocket(r) && overlaps(r)) : []);
}

const spanKey = (r: TupleRow): string => `${r.node}/${r.sock}`;

/** Each socket's first and last time among tuple rows: tells a peer (overlapping) from a reuse (before or after). */
function socketSpans(rows: TupleRow[]): Map<string, [number, number]> {
  const spans = new Map<string, [number, number]>();
  for (const r of rows) {
    if (hasNoSocket(r)) continue;
    const span = spans.get(spanKey(r));
    spans.set(spanKey(r), span ? [Math.min(span[0], r.time_us), Math.max(span[1], r.time_us)] : [r.time_us, r.time_us]);
  }
  return spans;
}

/**
 * The socketless rows that belong to a connection living [from, to]: from its
 * start until TUPLE_MARGIN_US after its end (a late segment's RST), but not
 * once another connection on the same tuple has begun: a RST no socket sent
 * belongs to the newest connection born before it.
 */
function socketlessWithin(rows: TupleRow[], spans: Map<string, [number, number]>, from: number, to: number): TupleRow[] {
  let cap = to + TUPLE_MARGIN_US;
  for (const [start] of spans.values()) if (start > to) cap = Math.min(cap, start);
  return rows.filter((r) => hasNoSocket(r) && r.time_us >= from && r.time_us < cap);
}

/**
 * Tuple-matched events that name no socket (NO_SOCKET resets) of the
 * connection that lived [from, to] on this exact tuple: the only events a
 * tuple can add to sockets already known by identity.
 */
export function socketlessTupleEvents(statements: PreparedStatements, w: TupleWindow): EventRow[] {
  const rows = tupleEvents(statements, { ...w, to: w.to + TUPLE_MARGIN_US });
  return socketlessWithin(rows, socketSpans(rows), w.from, w.to);
}

/** An exact 4-tuple (either direction) and a time window, µs: what tuple lookups match on. */
export interface TupleWindow {
  aIp: string;
  aPort: number;
  bIp: string;
  bPort: number;
  from: number;
  to: number;
}

/** Events of either direction of an exact 4-tuple within [from, to]; [] when a port is unknown (0): that is no identity. */
export function tupleEvents(statements: PreparedStatements, { aIp, aPort, bIp, bPort, from, to }: TupleWindow): TupleRow[] {
  if (!aIp || !bIp || !(aPort > 0) || !(bPort > 0)) return [];
  const st = statements.get(TUPLE_EVENTS);
  return (st.all(aIp, aPort, bIp, bPort, from, to) as TupleRow[]).concat(st.all(bIp, bPort, aIp, aPort, from, to) as TupleRow[]);
}
