// A socket's story rebuilt from its hop, for when its raw events have left the
// ring: traces are kept for a day, raw events for minutes, and a timeline of
// yesterday's trace should still say who opened, who closed or reset, and why.
//
// The rebuilt events are ConnEvents built from the hop's stored facts only,
// and marked as such: seq is 0 (no stored event has seq 0: putEvents refuses
// it) and `process` is absent (no syscall was seen). Per socket, up to three:
//   open   at hop.startUs: STATE_CHANGE CLOSE → SYN_SENT for the end that
//          opened (`openedBy`, the client when unrecorded), LISTEN → SYN_RECV
//          for the other;
//   end    at the step's time (hop.resetUs or firstFinUs: the kernel's time
//          of that RST or FIN), else (a hop stored before step times were
//          recorded) at hop.endUs: RESET_SENT with the hop's `resetReason`
//          for the end that reset (`resetBy`), RESET_RECEIVED for its peer;
//          otherwise ESTABLISHED → FIN_WAIT1 for the end that sent the first
//          FIN (`firstFinBy`), ESTABLISHED → CLOSE_WAIT for its peer (the
//          peer's at the sender's time: its arrival was not kept);
//   close  at hop.endUs: STATE_CHANGE → CLOSE from the state the end left.
// Fields from the hop: timeUs, local/remote (this end, the other end), family
// (from the address), and from this end's HopEndpoint: sock and node (its
// socket id), pod, netns, role, leg, uid, owner (pid, comm). tsNs is the
// socket id's birth for the open, and birth + (end − start) for the end and
// close (plus 1 ns per event), so the kernel order on the node stays right;
// it is not a kernel time anyone measured. An open hop (endUs 0) gets its open only.
import {
  v1,
  EventKind,
  TcpState,
  parseSocketId,
  type ConnEvent,
  type HopEndpoint,
} from "../../model/mod.js";
import type { EventRow } from "./event-rows.js";
import type { StoredHop } from "./socket-window.js";

/** Not a stream id (those start at 1): what a rebuilt event's EventRow carries. */
export const SUMMARY_STREAM_ID = 0;

/** The events of one end of a hop as the hop's facts tell them; [] when that end names no socket. */
export function summarizeHopEnd(hop: StoredHop, side: "client" | "server"): EventRow[] {
  const me = side === "client" ? hop.client : hop.server;
  const peer = side === "client" ? hop.server : hop.client;
  const ident = me?.socketId ? parseSocketId(me.socketId) : null;
  if (!me || !ident) return [];
  const other = side === "client" ? "server" : "client";
  const startUs = hop.startUs ?? 0;
  const endUs = hop.endUs ?? 0;
  // One ns apart at least, so the end comes before the close on the node's kernel clock too.
  let step = 0n;
  const at = (timeUs: number): bigint => ident.birthNs + BigInt(Math.max(0, timeUs - startUs)) * 1000n + step++;
  const make = (timeUs: number, fill: Partial<ConnEvent>): EventRow => ({
    node: ident.node,
    streamId: SUMMARY_STREAM_ID,
    event: fromEndpoint(me, peer, ident.sock, timeUs, at(timeUs), fill),
  });

  const opener = hop.openedBy || "client";
  const out: EventRow[] = [
    make(
      startUs,
      opener === side
        ? stateChange(TcpState.TCP_STATE_CLOSE, TcpState.TCP_STATE_SYN_SENT)
        : stateChange(TcpState.TCP_STATE_LISTEN, TcpState.TCP_STATE_SYN_RECV),
    ),
  ];
  if (!(endUs > 0)) return out;
  let last: TcpState = TcpState.TCP_STATE_ESTABLISHED;
  // Within the hop, so the rebuilt order (open, end, close) holds whatever was stored.
  const stepAt = (us: number | null | undefined): number => Math.min(endUs, Math.max(startUs, Number(us ?? 0) || endUs));
  const resetAt = stepAt(hop.resetUs);
  const finAt = stepAt(hop.firstFinUs);
  if (hop.resetBy === side) {
    out.push(make(resetAt, { kind: EventKind.EVENT_KIND_RESET_SENT, resetReason: hop.resetReason ?? 0, oldState: last }));
  } else if (hop.resetBy === other) {
    out.push(make(resetAt, { kind: EventKind.EVENT_KIND_RESET_RECEIVED, oldState: last }));
  } else if (hop.firstFinBy === side) {
    out.push(make(finAt, stateChange(last, TcpState.TCP_STATE_FIN_WAIT1)));
    last = TcpState.TCP_STATE_FIN_WAIT1;
  } else if (hop.firstFinBy === other) {
    out.push(make(finAt, stateChange(last, TcpState.TCP_STATE_CLOSE_WAIT)));
    last = TcpState.TCP_STATE_CLOSE_WAIT;
  }
  out.push(make(endUs, stateChange(last, TcpState.TCP_STATE_CLOSE)));
  return out;
}

const stateChange = (from: TcpState, to: TcpState): Partial<ConnEvent> => ({
  kind: EventKind.EVENT_KIND_STATE_CHANGE,
  oldState: from,
  newState: to,
});

function fromEndpoint(
  me: HopEndpoint,
  peer: HopEndpoint | null | undefined,
  sock: string,
  timeUs: number,
  tsNs: bigint,
  fill: Partial<ConnEvent>,
): ConnEvent {
  const ip = me.ip ?? "";
  // A message with every scalar present, as a decoded event has them.
  const msg = v1.ConnEvent.create({
    seq: 0,
    timeUs,
    sock,
    netns: me.netns ?? 0,
    pod: me.pod ?? "",
    family: ip.includes(":") ? 6 : 4,
    local: { ip, port: me.port ?? 0 },
    remote: { ip: peer?.ip ?? "", port: peer?.port ?? 0 },
    uid: me.uid ?? 0,
    owner: { pid: me.pid ?? 0, tid: 0, comm: me.comm ?? "" },
    role: me.role ?? 0,
    leg: me.leg ?? 0,
  });
  const ev = msg as unknown as ConnEvent;
  Object.assign(ev, fill);
  ev.tsNs = tsNs;
  ev.gapStartNs = 0n;
  return ev;
}
