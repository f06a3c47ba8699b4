// Who opened, who closed first, who reset and why, per hop; then where along
// the chain the failure began and how the other hops relayed it. Pure
// functions over snapshots: missing evidence yields "" or INCOMPLETE, never a
// guess.
import { Outcome, ResetReason, TcpState } from "../model/mod.js";
import type { HopView, SockView } from "./hop-view.js";
import type { Relay } from "./trace-info.js";

export type Side = "client" | "server";

export interface HopClass {
  openedBy: "" | "client" | "server";
  firstFinBy: "" | Side;
  resetBy: "" | Side | "none";
  resetReason: ResetReason;
  /**
   * When each of those steps happened (wall µs, 0 = not seen): the SYN (the
   * client's connect, else its arrival at the server), the first FIN (its
   * sender's, else its arrival at the other end), the RST (its sender's, else
   * its arrival). Taken from the same ends whose events decided the senders.
   */
  openedUs: number;
  firstFinUs: number;
  resetUs: number;
  outcome: Outcome;
  /** When the hop failed (wall µs), 0 if it did not. */
  failureUs: number;
  /** The end where this hop's failure began ("" if none or unknown). */
  failureSide: "" | Side;
  /** How this hop ended: the first RST or else the first FIN. */
  relay: Relay | null;
  incompleteReason: string;
}

export interface TraceClass {
  outcome: Outcome;
  /** Number (1-based, like Hop.index) of the hop where the failure began, 0 if none. */
  originHop: number;
  originSide: "" | Side;
  propagation: Relay[];
  incompleteReason: string;
}

/** The failures: every outcome but completed, open and incomplete (what users list first). */
export const FAILURE_OUTCOMES: readonly Outcome[] = [
  Outcome.OUTCOME_REFUSED,
  Outcome.OUTCOME_RESET_BY_CLIENT,
  Outcome.OUTCOME_RESET_BY_SERVER,
  Outcome.OUTCOME_RESET_UNTRACED,
  Outcome.OUTCOME_TIMEOUT,
  Outcome.OUTCOME_PROCESS_EXIT,
  Outcome.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE,
];
const FAILURES: ReadonlySet<Outcome> = new Set(FAILURE_OUTCOMES);

const ECONNREFUSED = -111;

/** Sent its FIN before receiving one (active close). */
function activeClose(v: SockView | null): boolean {
  return !!v && v.finSentNs > 0n && (v.finRecvNs === 0n || v.finSentNs <= v.finRecvNs);
}

/** Received a FIN before sending one (passive close). */
function passiveClose(v: SockView | null): boolean {
  return !!v && v.finRecvNs > 0n && (v.finSentNs === 0n || v.finRecvNs < v.finSentNs);
}

/** Sent a RST that was not a reaction to one it had received. */
function sentReset(v: SockView | null): boolean {
  return !!v && v.rstSentNs > 0n && (v.rstRecvNs === 0n || v.rstSentNs <= v.rstRecvNs);
}

/** The socket gave up: it died from a connected or connecting state with no FIN or RST exchanged, after retransmitting. */
function timedOut(v: SockView | null): boolean {
  if (!v || !v.dead || v.phantom || v.retransmits === 0) return false;
  if (v.rstSentNs || v.rstRecvNs) return false;
  const from = v.closeFrom;
  return (
    from === TcpState.TCP_STATE_ESTABLISHED ||
    from === TcpState.TCP_STATE_SYN_SENT ||
    from === TcpState.TCP_STATE_SYN_RECV ||
    from === TcpState.TCP_STATE_FIN_WAIT1 ||
    from === TcpState.TCP_STATE_CLOSE_WAIT ||
    from === TcpState.TCP_STATE_LAST_ACK ||
    from === TcpState.TCP_STATE_CLOSING
  );
}

function firstFin(c: SockView | null, s: SockView | null): "" | Side {
  const ca = activeClose(c);
  const sa = activeClose(s);
  if (ca && !sa) return "client";
  if (sa && !ca) return "server";
  if (ca && sa) {
    // Simultaneous close: only one clock can order it.
    if (c!.node === s!.node && c!.finSentUs !== s!.finSentUs) return c!.finSentUs < s!.finSentUs ? "client" : "server";
    return "";
  }
  if (passiveClose(c)) return "server";
  if (passiveClose(s)) return "client";
  return "";
}

/** When the first FIN of `by` went out: its sender's FIN, else its arrival at the other end (the sender untraced, or its FIN event lost). */
function finTime(by: "" | Side, c: SockView | null, s: SockView | null): number {
  if (!by) return 0;
  const [sender, receiver] = by === "client" ? [c, s] : [s, c];
  return sender?.finSentUs || receiver?.finRecvUs || 0;
}

export function classifyHop(h: HopView): HopClass {
  const c = h.client;
  const s = h.server;
  const refusal = h.refusal ?? (s?.phantom ? s : null);
  const out: HopClass = {
    openedBy: "",
    firstFinBy: firstFin(c, s?.phantom ? null : s),
    resetBy: "",
    resetReason: ResetReason.RESET_REASON_UNSPECIFIED,
    openedUs: 0,
    firstFinUs: 0,
    resetUs: 0,
    outcome: Outcome.OUTCOME_UNSPECIFIED,
    failureUs: 0,
    failureSide: "",
    relay: null,
    incompleteReason: "",
  };
  // A SYN_SENT birth, or a SYN_RECV birth on the other end, means the client sent the SYN.
  // Its time: the client's birth is its connect (CLOSE→SYN_SENT), the server's is the SYN's arrival.
  if ((c && !c.midstream) || (s && !s.midstream)) {
    out.openedBy = "client";
    out.openedUs = c && !c.midstream ? c.bornUs : s!.bornUs;
  }
  out.firstFinUs = finTime(out.firstFinBy, c, s?.phantom ? null : s);

  // Who reset.
  const cr = sentReset(c);
  const sr = !!s && !s.phantom && sentReset(s);
  let resetAt = 0;
  if (cr && (!sr || c!.rstSentUs <= s!.rstSentUs)) {
    out.resetBy = "client";
    out.resetReason = c!.rstReason;
    resetAt = c!.rstSentUs;
  } else if (sr) {
    out.resetBy = "server";
    out.resetReason = s!.rstReason;
    resetAt = s!.rstSentUs;
  } else if (refusal && (c?.rstRecvNs || !c?.estUs)) {
    out.resetBy = "server";
    out.resetReason = refusal.rstReason;
    resetAt = refusal.rstSentUs;
  } else if (c?.rstRecvNs || (s && !s.phantom && s.rstRecvNs)) {
    out.resetBy = "none";
    const times = [c?.rstRecvUs ?? 0, s?.phantom ? 0 : (s?.rstRecvUs ?? 0)].filter((x) => x > 0);
    resetAt = Math.min(...times);
  }
  out.resetUs = resetAt;

  // How the hop ended, for propagation.
  if (out.resetBy === "client" || out.resetBy === "server") {
    out.relay = { hop: h.index, by: out.resetBy, kind: "RST", atUs: resetAt };
  } else if (out.firstFinBy) {
    const v = out.firstFinBy === "client" ? c : s;
    if (v && v.finSentUs) out.relay = { hop: h.index, by: out.firstFinBy, kind: "FIN", atUs: v.finSentUs };
  }

  const ends = [c, s].filter((v): v is SockView => v !== null);
  // A gap the socket lived across leaves its outcome to what was seen (the
  // trace says a gap overlapped it); one that hid its open or close does not.
  const why = ends.some((v) => v.closeInGap)
    ? "a socket's close was not seen: nothing of it since an agent gap, so its end fell in the gap"
    : ends.some((v) => v.gapInside)
    ? "its open or close fell into an agent gap"
    : ends.some((v) => v.missingClose)
      ? "a socket's close was never seen"
      : ends.some((v) => v.midstream)
        ? "a socket was first seen after its connection began"
        : h.missingExpected && out.resetBy !== "none"
          ? `its ${c ? "server" : "client"} end was not seen although its address is traced`
          : "";
  if (why) {
    out.incompleteReason = why;
    out.outcome = Outcome.OUTCOME_INCOMPLETE;
    return out;
  }
  if (ends.some((v) => !v.dead)) {
    out.outcome = Outcome.OUTCOME_OPEN;
    return out;
  }
  const neverConnected = !!c && c.estUs === 0;
  if (refusal && neverConnected) {
    out.outcome = Outcome.OUTCOME_REFUSED;
    out.failureUs = refusal.rstSentUs;
    out.failureSide = "server";
    return out;
  }
  if (out.resetBy === "none") {
    // Refused by a host we do not trace is still a refusal; anywhere traced, a
    // RST nobody sent is a middlebox's (a traced kernel refusing would have
    // reported a NO_SOCKET reset, so a missing end there is no gap).
    const refusedOutside = neverConnected && !h.missingExpected && s === null;
    out.outcome = refusedOutside ? Outcome.OUTCOME_REFUSED : Outcome.OUTCOME_RESET_UNTRACED;
    out.failureUs = resetAt;
    out.failureSide = refusedOutside ? "server" : c?.rstRecvNs ? "client" : "server";
    return out;
  }
  if (neverConnected && c!.connectRet === ECONNREFUSED && out.resetBy === "") {
    out.outcome = Outcome.OUTCOME_REFUSED;
    out.failureUs = c!.deathUs;
    out.failureSide = "server";
    return out;
  }
  if (out.resetReason === ResetReason.RESET_REASON_TCP_KEEPALIVE_TIMEOUT) {
    out.outcome = Outcome.OUTCOME_TIMEOUT;
    out.failureUs = resetAt;
    out.failureSide = out.resetBy as Side;
    return out;
  }
  const gaveUp = timedOut(c) ? c : timedOut(s) ? s : null;
  if (gaveUp && out.resetBy === "") {
    out.outcome = Outcome.OUTCOME_TIMEOUT;
    out.failureUs = gaveUp.deathUs;
    out.failureSide = gaveUp === c ? "client" : "server";
    return out;
  }
  if (out.resetBy === "client" || out.resetBy === "server") {
    out.outcome = out.resetBy === "client" ? Outcome.OUTCOME_RESET_BY_CLIENT : Outcome.OUTCOME_RESET_BY_SERVER;
    out.failureUs = resetAt;
    out.failureSide = out.resetBy;
    return out;
  }
  // A FIN the process never asked for: it exited with the connection open.
  // Unless a gap overlapped the socket: its close() may be among the lost events.
  const closer = out.firstFinBy === "client" ? c : out.firstFinBy === "server" ? s : null;
  if (closer?.exitClosed && !closer.gap) {
    out.outcome = Outcome.OUTCOME_PROCESS_EXIT;
    out.failureUs = closer.finSentUs;
    out.failureSide = out.firstFinBy as Side;
    return out;
  }
  out.outcome = Outcome.OUTCOME_COMPLETED;
  return out;
}

/**
 * `retried[i]` (array position): hop i is a proxy's connect attempt that a
 * later attempt replaced (or leads from one). Its failure is kept on the hop
 * but neither begins the trace's failure nor relays it: the last attempt decides.
 * `shared[i]`: hop i's connection served other traces too (pooled); its views
 * end with this trace's use of it, and when it is still open then, it is the
 * pool's connection staying open, which leaves this trace's outcome alone.
 */
export function classifyTrace(classes: HopClass[], retried: readonly boolean[] = [], shared: readonly boolean[] = []): TraceClass {
  // `skip` is an array position (the origin's own relay is not propagation).
  const relays = (skip: number) =>
    classes
      .map((k, i) => (i === skip || retried[i] ? null : k.relay))
      .filter((r): r is Relay => r !== null)
      .sort((a, b) => a.atUs - b.atUs || a.hop - b.hop);
  const incomplete = classes.find((k) => k.outcome === Outcome.OUTCOME_INCOMPLETE);
  if (incomplete) {
    return {
      outcome: Outcome.OUTCOME_INCOMPLETE,
      originHop: 0,
      originSide: "",
      propagation: relays(-1),
      incompleteReason: incomplete.incompleteReason,
    };
  }
  let origin = -1;
  classes.forEach((k, i) => {
    if (!FAILURES.has(k.outcome) || retried[i]) return;
    if (origin < 0 || k.failureUs < classes[origin]!.failureUs) origin = i;
  });
  if (origin >= 0) {
    const o = classes[origin]!;
    return {
      outcome: o.outcome,
      originHop: origin + 1,
      originSide: o.failureSide,
      propagation: relays(origin).filter((r) => r.atUs >= o.failureUs),
      incompleteReason: "",
    };
  }
  const open = classes.some((k, i) => k.outcome === Outcome.OUTCOME_OPEN && !shared[i]);
  return {
    outcome: open ? Outcome.OUTCOME_OPEN : Outcome.OUTCOME_COMPLETED,
    originHop: 0,
    originSide: "",
    propagation: relays(-1),
    incompleteReason: "",
  };
}
