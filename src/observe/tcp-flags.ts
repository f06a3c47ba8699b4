// `--tcp-flags`: which TCP flag an event stands for. tcptrail sees no packets,
// only what the kernel did to a socket, so a flag is read from the event that
// a segment with that flag causes or reports:
//
//   SYN  the connection opening: connect(2) or accept(2) returning, a state
//        change into SYN_SENT (a SYN sent) or SYN_RECV / NEW_SYN_RECV (a SYN received)
//   FIN  a FIN sent or received: a state change into FIN_WAIT1 (this end sent
//        the first FIN), CLOSE_WAIT (the peer's FIN arrived first), LAST_ACK
//        (this end's FIN after the peer's), CLOSING (both FINs crossed), or
//        into TIME_WAIT from FIN_WAIT1/FIN_WAIT2 (the peer's FIN after ours)
//   RST  RESET_SENT or RESET_RECEIVED
//
// Every other event (retransmits, close(2), links, gaps, the handshake's
// completion into ESTABLISHED) carries none. One event stands for at most one
// flag, so unlike hubble, where `--tcp-flags syn,ack` needs both on one
// packet, a comma list here means any of them: it is the flag repeated.
import { EventKind, TcpState, type ConnEvent } from "../model/mod.js";

export const TCP_FLAGS = ["SYN", "FIN", "RST"] as const;
export type TcpFlag = (typeof TCP_FLAGS)[number];

export const isTcpFlag = (s: string): s is TcpFlag => (TCP_FLAGS as readonly string[]).includes(s);

const SYN_STATES: ReadonlySet<number> = new Set([TcpState.TCP_STATE_SYN_SENT, TcpState.TCP_STATE_SYN_RECV, TcpState.TCP_STATE_NEW_SYN_RECV]);
const FIN_STATES: ReadonlySet<number> = new Set([
  TcpState.TCP_STATE_FIN_WAIT1,
  TcpState.TCP_STATE_CLOSE_WAIT,
  TcpState.TCP_STATE_LAST_ACK,
  TcpState.TCP_STATE_CLOSING,
]);
// TIME_WAIT is also entered from CLOSING on the last ACK, which is no FIN.
const FIN_INTO_TIME_WAIT_FROM: ReadonlySet<number> = new Set([TcpState.TCP_STATE_FIN_WAIT1, TcpState.TCP_STATE_FIN_WAIT2]);

/** The flag the event stands for, or undefined. */
export function tcpFlagOf(ev: Pick<ConnEvent, "kind" | "oldState" | "newState">): TcpFlag | undefined {
  switch (ev.kind) {
    case EventKind.EVENT_KIND_RESET_SENT:
    case EventKind.EVENT_KIND_RESET_RECEIVED:
      return "RST";
    case EventKind.EVENT_KIND_SYSCALL_CONNECT:
    case EventKind.EVENT_KIND_SYSCALL_ACCEPT:
      return "SYN";
    case EventKind.EVENT_KIND_STATE_CHANGE:
      if (SYN_STATES.has(ev.newState)) return "SYN";
      if (FIN_STATES.has(ev.newState)) return "FIN";
      if (ev.newState === TcpState.TCP_STATE_TIME_WAIT && FIN_INTO_TIME_WAIT_FROM.has(ev.oldState)) return "FIN";
      return undefined;
    default:
      return undefined;
  }
}
