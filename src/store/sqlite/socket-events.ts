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
//
// Everything here looks inside a window of wall time (SocketWindow, see
// socket-window.ts): the ring has no per-event index, so the caller says when
// the socket lived and the ring decodes only the rows of that window that
// hold the socket's address or the tuple's endpoint.
import { EventKind, TcpState, type KernelNs, type SocketIdentity } from "../../model/mod.js";
import { sockProbe, tupleProbe, type EventRow } from "./event-rows.js";
import type { RingReader } from "./event-ring.js";
import { FOREVER_NS, FOREVER_US } from "./time-columns.js";

// The margin around a socket's own events within which its 4-tuple's events
// count as its own: covers any realistic RTT on one mesh.
export const TUPLE_MARGIN_US = 1_000_000;

/** Wall µs within which a socket's own events lie (its birth and end, with margins). */
export interface SocketWindow {
  from: number;
  to: number;
}

/** NO_SOCKET resets and other events that name no socket: "" as written, "0" as some probes print a null pointer. */
const hasNoSocket = (r: EventRow): boolean => r.event.sock === "" || r.event.sock === "0";

/** A state change that starts a new connection on a socket address: connect, listen, or a listener's child. */
export function isBirth(r: EventRow): boolean {
  const e = r.event;
  if (e.kind !== EventKind.EVENT_KIND_STATE_CHANGE) return false;
  return (
    (e.oldState === TcpState.TCP_STATE_CLOSE && (e.newState === TcpState.TCP_STATE_SYN_SENT || e.newState === TcpState.TCP_STATE_LISTEN)) ||
    (e.oldState === TcpState.TCP_STATE_LISTEN && e.newState === TcpState.TCP_STATE_SYN_RECV)
  );
}

/** The first row whose 4-tuple is complete (both ports known); undefined when none is. */
export function fullTupleOf(rows: EventRow[]): EventRow | undefined {
  return rows.find((r) => {
    const { local, remote } = r.event;
    return local?.ip && remote?.ip && (local.port ?? 0) > 0 && (remote.port ?? 0) > 0;
  });
}

/** Is `r` an event of this socket address on this node, at or after `fromNs`? */
export const isOwn = (r: EventRow, ident: SocketIdentity, fromNs: KernelNs): boolean =>
  r.node === ident.node && r.event.sock === ident.sock && r.event.tsNs >= fromNs;

/** A socket's own events within its window, from its birth until its address is reused; [] when none are there. */
export function ownSocketEvents(ring: RingReader, ident: SocketIdentity, w: SocketWindow): EventRow[] {
  const rows = ring.find(w.from, w.to, sockProbe(ident.sock)).filter((r) => isOwn(r, ident, ident.birthNs));
  if (rows.length === 0) return [];
  // The next connection at this address is born after this socket's first
  // event, not after the id's birth: an id whose birth is a little before its
  // own birth event (a fixture, an id built from another clock) still owns it.
  let first = FOREVER_NS;
  for (const r of rows) if (r.event.tsNs < first) first = r.event.tsNs;
  let next = FOREVER_NS;
  for (const r of rows) if (r.event.tsNs > first && r.event.tsNs < next && isBirth(r)) next = r.event.tsNs;
  return rows.filter((r) => r.event.tsNs < next);
}

/**
 * A socket's own events (until its address is reused) and those answering its
 * exact 4-tuple: its untraced peer's and NO_SOCKET resets. A socket that
 * shares the tuple counts only if its events overlap this socket's life
 * (the peer); one that ended before this socket was born, or was born after
 * it died, is another connection that reused the tuple.
 */
export function socketEvents(ring: RingReader, ident: SocketIdentity, w: SocketWindow): EventRow[] {
  return withTupleEvents(ring, ident, w, true);
}

/**
 * A socket whose peer is known by identity (both ends of a hop traced): its
 * own events and the NO_SOCKET resets on its exact tuple during its life,
 * nothing from any other socket.
 */
export function pairedSocketEvents(ring: RingReader, ident: SocketIdentity, w: SocketWindow): EventRow[] {
  return withTupleEvents(ring, ident, w, false);
}

function withTupleEvents(ring: RingReader, ident: SocketIdentity, w: SocketWindow, peers: boolean): EventRow[] {
  const own = ownSocketEvents(ring, ident, w);
  const withTuple = fullTupleOf(own);
  if (!withTuple) return own;
  let from = FOREVER_US;
  let to = 0;
  for (const r of own) {
    from = Math.min(from, r.event.timeUs);
    to = Math.max(to, r.event.timeUs);
  }
  const { local, remote } = withTuple.event;
  const rows = tupleEvents(ring, {
    aIp: local?.ip ?? "",
    aPort: local?.port ?? 0,
    bIp: remote?.ip ?? "",
    bPort: remote?.port ?? 0,
    from: from - TUPLE_MARGIN_US,
    to: to + TUPLE_MARGIN_US,
  });
  const spans = socketSpans(rows);
  const overlaps = (r: EventRow): boolean => {
    // This socket's address on its node: its own rows are already in `own`, the others are a reuse.
    if (r.node === ident.node && r.event.sock === ident.sock) return false;
    const span = spans.get(spanKey(r))!;
    return span[0] <= to && span[1] >= from;
  };
  return own.concat(socketlessWithin(rows, spans, from, to), peers ? rows.filter((r) => !hasNoSocket(r) && overlaps(r)) : []);
}

const spanKey = (r: EventRow): string => `${r.node}/${r.event.sock}`;

/** Each socket's first and last time among tuple rows: tells a peer (overlapping) from a reuse (before or after). */
function socketSpans(rows: EventRow[]): Map<string, [number, number]> {
  const spans = new Map<string, [number, number]>();
  for (const r of rows) {
    if (hasNoSocket(r)) continue;
    const t = r.event.timeUs;
    const span = spans.get(spanKey(r));
    spans.set(spanKey(r), span ? [Math.min(span[0], t), Math.max(span[1], t)] : [t, t]);
  }
  return spans;
}

/**
 * The socketless rows that belong to a connection living [from, to]: from its
 * start until TUPLE_MARGIN_US after its end (a late segment's RST), but not
 * once another connection on the same tuple has begun: a RST no socket sent
 * belongs to the newest connection born before it.
 */
function socketlessWithin(rows: EventRow[], spans: Map<string, [number, number]>, from: number, to: number): EventRow[] {
  let cap = to + TUPLE_MARGIN_US;
  for (const [start] of spans.values()) if (start > to) cap = Math.min(cap, start);
  return rows.filter((r) => hasNoSocket(r) && r.event.timeUs >= from && r.event.timeUs < cap);
}

/**
 * Tuple-matched events that name no socket (NO_SOCKET resets) of the
 * connection that lived [from, to] on this exact tuple: the only events a
 * tuple can add to sockets already known by identity.
 */
export function socketlessTupleEvents(ring: RingReader, w: TupleWindow): EventRow[] {
  const rows = tupleEvents(ring, { ...w, to: w.to + TUPLE_MARGIN_US });
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
export function tupleEvents(ring: RingReader, { aIp, aPort, bIp, bPort, from, to }: TupleWindow): EventRow[] {
  if (!aIp || !bIp || !(aPort > 0) || !(bPort > 0)) return [];
  const is = (ep: { ip?: string | null; port?: number | null } | null | undefined, ip: string, port: number): boolean =>
    ep?.ip === ip && ep.port === port;
  // Either direction holds both endpoints, as local and remote: one probe finds both.
  return ring.find(from, to, tupleProbe(aIp, aPort, bIp, bPort)).filter((r) => {
    const e = r.event;
    if (e.timeUs < from || e.timeUs > to) return false;
    return (is(e.local, aIp, aPort) && is(e.remote, bIp, bPort)) || (is(e.local, bIp, bPort) && is(e.remote, aIp, aPort));
  });
}
