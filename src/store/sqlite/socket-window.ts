// When a socket lived, in wall µs: the window of the ring its timeline reads.
// The ring has no per-socket index (that is what made the old events table
// cost ~350 B per event), so a socket's events are found by time first.
//
// A traced socket's window comes from the hops that name it: they recorded
// when the connection started and ended. A socket no stored trace names
// (a connection still in the stitcher, or one it never paired) is found from
// its birth: the id carries the kernel ns of its first event, and each of its
// node's streams is indexed by kernel time (stream_id, last_ns).
import { TcpState, type SocketIdentity, type Trace } from "../../model/mod.js";
import { MAX_ROW_SPAN_US, sockProbe } from "./event-rows.js";
import type { RingReader } from "./event-ring.js";
import { isBirth, isOwn, TUPLE_MARGIN_US, type SocketWindow } from "./socket-events.js";

/** A hop as a stored trace holds it (every field optional). */
export type StoredHop = Trace["hops"][number];

/** Which end of a hop a socket id is, if any. */
export function sideOf(hop: StoredHop, socketId: string): "client" | "server" | null {
  if (hop.client?.socketId === socketId) return "client";
  if (hop.server?.socketId === socketId) return "server";
  return null;
}

/** The hops of these traces that name the socket, at either end. */
export function hopsNaming(traces: readonly Trace[], socketId: string): StoredHop[] {
  return traces.flatMap((t) => t.hops.filter((h) => sideOf(h, socketId) !== null));
}

/**
 * From the first hop start to the last hop end, TUPLE_MARGIN_US wider on both
 * sides (a listener child is born a little before the hop's recorded start, a
 * late RST comes after its end). A hop that has not ended reaches `openEndUs`.
 * Null when no hop recorded a start: the caller then looks for the birth.
 */
export function windowFromHops(hops: readonly StoredHop[], openEndUs: number): SocketWindow | null {
  let from = Number.MAX_SAFE_INTEGER;
  let to = 0;
  for (const h of hops) {
    const start = h.startUs ?? 0;
    const end = h.endUs ?? 0;
    if (!(start > 0)) continue;
    from = Math.min(from, start);
    to = Math.max(to, end > 0 ? end : Math.max(openEndUs, start));
  }
  if (to === 0) return null;
  return { from: from - TUPLE_MARGIN_US, to: to + TUPLE_MARGIN_US };
}

/**
 * A socket with no stored trace: its first own event at or after its birth
 * and within TUPLE_MARGIN_US of it (found through its node's kernel-time
 * index), then forward in wall time
 * until its address is born again, or it closed TUPLE_MARGIN_US ago (what
 * comes later on its address is the next connection's or nobody's), or
 * the ring's row budget runs out. Null when the ring holds none of its events.
 */
export function windowFromBirth(ring: RingReader, ident: SocketIdentity): SocketWindow | null {
  const probe = sockProbe(ident.sock);
  // Written by the visitor below: an object, so the compiler does not narrow it to its initial value.
  const birth: { us: number; ns: bigint | null } = { us: 0, ns: null };
  // The id's birth is its first event's kernel time; allow an id minted a little before it.
  const latestNs = ident.birthNs + BigInt(TUPLE_MARGIN_US) * 1000n;
  ring.scanNodeByNs(ident.node, ident.birthNs, latestNs, probe, (rows) => {
    let found = false;
    for (const r of rows) {
      if (!isOwn(r, ident, ident.birthNs) || r.event.tsNs > latestNs) continue;
      found = true;
      if (birth.ns === null || r.event.tsNs < birth.ns) {
        birth.ns = r.event.tsNs;
        birth.us = r.event.timeUs;
      }
    }
    // The first row holding it is enough for this stream: rows after it are later.
    return !found;
  });
  if (birth.ns === null) return null;
  const first: bigint = birth.ns;
  let lastUs = birth.us;
  // Where the socket's life is known to have ended: another birth or a close (wall µs).
  let endUs: number | null = null;
  ring.scan({ from: birth.us }, probe, (rows, row) => {
    if (endUs !== null && row.last_us > endUs + MAX_ROW_SPAN_US) return false;
    for (const r of rows ?? []) {
      if (!isOwn(r, ident, first)) continue;
      const t = r.event.timeUs;
      if (r.event.tsNs > first && isBirth(r)) {
        endUs = endUs === null ? t : Math.min(endUs, t);
        continue;
      }
      if (endUs !== null && t >= endUs) continue;
      lastUs = Math.max(lastUs, t);
      if (r.event.newState === TcpState.TCP_STATE_CLOSE) {
        const closedBy = t + TUPLE_MARGIN_US;
        endUs = endUs === null ? closedBy : Math.min(endUs, closedBy);
      }
    }
    return true;
  });
  return { from: birth.us, to: lastUs };
}
