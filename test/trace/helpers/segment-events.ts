// Where a hop's SYN, FIN and RST are in a recording, read from the events
// themselves (not from the trace): what the step times of a stitched hop
// (Hop.opened_us, first_fin_us, reset_us) are checked against.
import { EventKind, TcpState, type ConnEvent, type Trace } from "../../../src/model/mod.js";
import type { FixtureRecord } from "./load-fixture.js";

export type Segment = "SYN" | "FIN" | "RST";
type Hop = Trace["hops"][number];

/** "node/sock/birth" → the socket's events in the recording, in order. */
function eventsOf(recs: readonly FixtureRecord[], socketId: string | null | undefined): ConnEvent[] {
  if (!socketId) return [];
  const [node, sock] = socketId.split("/");
  return recs.filter((r) => r.node === node && r.event.sock === sock).map((r) => r.event);
}

const to =
  (...states: TcpState[]) =>
  (e: ConnEvent) =>
    e.kind === EventKind.EVENT_KIND_STATE_CHANGE && states.includes(e.newState);
const finSent = (e: ConnEvent) =>
  e.kind === EventKind.EVENT_KIND_STATE_CHANGE &&
  (e.newState === TcpState.TCP_STATE_FIN_WAIT1 || (e.oldState === TcpState.TCP_STATE_CLOSE_WAIT && e.newState === TcpState.TCP_STATE_LAST_ACK));
const kind = (k: EventKind) => (e: ConnEvent) => e.kind === k;

/**
 * The recorded event that is `hop`'s `segment`: the SYN's SYN_SENT on the
 * client (else SYN_RECV on the server); the first FIN's FIN_WAIT1 or
 * LAST_ACK on the end the hop names as its sender (else CLOSE_WAIT on the
 * other end); the RST's RESET_SENT on its sender (a kernel refusing a SYN has
 * no socket: its RESET_SENT names the client's port as remote), else
 * RESET_RECEIVED on the other end (always, for a RST no traced socket sent).
 * Its wall time, or 0 when the recording has none.
 */
export function segmentEventUs(recs: readonly FixtureRecord[], hop: Hop, segment: Segment): number {
  const first = (socketId: string | null | undefined, pred: (e: ConnEvent) => boolean) => eventsOf(recs, socketId).find(pred)?.timeUs ?? 0;
  const c = hop.client?.socketId;
  const s = hop.server?.socketId;
  if (segment === "SYN") return first(c, to(TcpState.TCP_STATE_SYN_SENT)) || first(s, to(TcpState.TCP_STATE_SYN_RECV));
  const [sender, receiver] = (segment === "FIN" ? hop.firstFinBy : hop.resetBy) === "client" ? [c, s] : [s, c];
  if (segment === "FIN") return first(sender, finSent) || first(receiver, to(TcpState.TCP_STATE_CLOSE_WAIT));
  if (hop.resetBy !== "none") {
    const sent = first(sender, kind(EventKind.EVENT_KIND_RESET_SENT));
    if (sent) return sent;
    const refusal = recs.find((r) => r.event.kind === EventKind.EVENT_KIND_RESET_SENT && !r.event.sock && r.event.remote?.port === hop.client?.port);
    if (refusal) return refusal.event.timeUs;
  }
  return first(receiver, kind(EventKind.EVENT_KIND_RESET_RECEIVED));
}

/** The hop's step time of `segment` as the stitcher recorded it (0 when none). */
export function stepUs(hop: Hop, segment: Segment): number {
  return Number(segment === "SYN" ? hop.openedUs : segment === "FIN" ? hop.firstFinUs : hop.resetUs);
}
