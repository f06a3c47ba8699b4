// One sentence per trace: who did what, on which hop, and why. Names come from
// the socket snapshots (role, pod, command, pid), addresses from the tuple when
// an end was not traced. Hops are named by their number (Hop.index, 1-based),
// the same number `tcptrail why`, the table and the JSON show.
import { gapLossText, type GapOverlapFacts } from "./gap-log.js";
import { formatEndpoint, Outcome, reasonName, ResetReason, Role, v1 } from "../model/mod.js";
import { attemptsNotes } from "./attempts-note.js";
import type { HopClass, Side, TraceClass } from "./classify.js";
import type { HopView, SockView } from "./hop-view.js";
import { idleClose, type IdleClose, type IdleCloseOptions } from "./idle-close.js";
import type { IdleCloseRaceFacts } from "./idle-close-race.js";
import type { Relay } from "./trace-info.js";
import type { WireSender } from "./untraced-sender.js";

export interface ExplainContext {
  /** A sidecar's upstream connection could not be attributed to one request. */
  pooled: boolean;
  /** What decides whether a sidecar's first close was its idle timeout. */
  idle: IdleCloseOptions;
  /** RESET_UNTRACED: the RST's sender as the wire names it (see untraced-sender.ts). */
  untracedSender: WireSender | null;
  /** UPSTREAM_IDLE_CLOSE_RACE: its facts (idle-close-race.ts). */
  race?: IdleCloseRaceFacts | null;
  /** Agent gaps that overlapped the connection (gap-log.ts), when its outcome was still told from what was seen. */
  gap?: GapOverlapFacts | null;
}

function where(v: SockView): string {
  return v.pod && v.pod !== v.node ? `${v.node}/${v.pod}` : v.node;
}

/** "app node (pid 812, node1/tt-b)", "sidecar tt-b (haproxy pid 900)". */
export function fullName(v: SockView): string {
  if (v.phantom) return `the kernel of ${where(v)}`;
  if (v.role === Role.ROLE_SIDECAR) return `sidecar ${v.pod || v.node} (${v.comm || "?"} pid ${v.pid || "?"})`;
  if (v.role === Role.ROLE_APP || v.pid) return `app ${v.comm || "?"} (pid ${v.pid || "?"}, ${where(v)})`;
  return `${formatEndpoint(v)} (${where(v)})`;
}

/** "sidecar tt-a", "app tt-b", or the address of an end nobody traced. */
export function shortName(v: SockView | null, fallback: string): string {
  if (!v) return fallback;
  if (v.phantom) return `the kernel of ${where(v)}`;
  if (v.role === Role.ROLE_SIDECAR) return `sidecar ${v.pod || v.node}`;
  if (v.role === Role.ROLE_APP) return `app ${v.pod || v.comm || v.node}`;
  return formatEndpoint(v);
}

function end(h: HopView, side: Side): SockView | null {
  return side === "client" ? h.client : h.server;
}

/** The untraced end of a half hop, named by the address the other end saw. */
function missingAddress(h: HopView, side: Side): string {
  if (side === "client") return h.server ? formatEndpoint({ ip: h.server.remoteIp, port: h.server.remotePort }) : "?";
  return h.client ? formatEndpoint({ ip: h.client.remoteIp, port: h.client.remotePort }) : "?";
}

function nameOf(h: HopView, side: Side): string {
  return shortName(end(h, side), missingAddress(h, side));
}

/** The full name of an end when it was traced, else its address. */
function fullNameOf(h: HopView, side: Side): string {
  const v = end(h, side);
  return v ? fullName(v) : nameOf(h, side);
}

function other(side: Side): Side {
  return side === "client" ? "server" : "client";
}

/** "on hop 2": the hop's number, as every output shows it. */
function onHop(h: HopView): string {
  return `on hop ${h.index}`;
}

function ms(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  const v = us / 1000;
  return v < 10 ? `${Math.round(v * 10) / 10} ms` : `${Math.round(v)} ms`;
}

/** Idle stretches and timeouts are seconds: "1.0 s", "30 s", "0.25 s". */
function seconds(us: number): string {
  const s = us / 1e6;
  if (s >= 10) return `${Math.round(s)} s`;
  return `${s < 1 ? Math.round(s * 100) / 100 : s.toFixed(1)} s`;
}

function timeoutSeconds(timeoutMs: number): string {
  return `${Math.round(timeoutMs) / 1000} s`;
}

function relays(hops: HopView[], list: Relay[], sinceUs: number): string {
  let previousReceiver = "";
  return list
    .map((r, i) => {
      const h = hops[r.hop - 1]!;
      const by = nameOf(h, r.by);
      const to = nameOf(h, other(r.by));
      const lag = sinceUs > 0 && r.atUs >= sinceUs ? ` ${ms(r.atUs - sinceUs)} later` : "";
      const what = r.kind === "RST" ? `reset its connection to ${to}` : `closed its connection to ${to} with a FIN`;
      const s =
        i === 0
          ? `${by} relayed it as a ${r.kind} to ${to}${lag}`
          : by === previousReceiver
            ? `which ${what}${lag}`
            : `${by} ${what}${lag}`;
      previousReceiver = to;
      return s;
    })
    .join(", ");
}

function reason(r: ResetReason): string {
  return r ? `kernel reason ${reasonName(r)}` : "no kernel reason";
}

function chain(all: HopView[]): string {
  const names: string[] = [];
  // A proxy's replaced attempts are told in its attempts note, not along the chain.
  const hops = all.filter((h) => !h.retried);
  hops.forEach((h, i) => {
    if (i === 0) names.push(h.client ? fullName(h.client) : missingAddress(h, "client"));
    names.push(h.server ? (i === hops.length - 1 ? fullName(h.server) : shortName(h.server, "")) : missingAddress(h, "server"));
  });
  return names.join(" → ");
}

/** "after 1.0 s (proxy idle timeout)", "1.0 s idle vs the configured timeout 1 s (proxy idle timeout)". */
function idleWords(idle: IdleClose): string {
  switch (idle.kind) {
    case "unconfigured":
      return `after ${seconds(idle.idleUs)} (proxy idle timeout)`;
    case "configured":
      return `${seconds(idle.idleUs)} idle vs the configured timeout ${timeoutSeconds(idle.timeoutMs)} (proxy idle timeout)`;
    case "far":
      return `after ${seconds(idle.idleUs)} without events, far from the configured idle timeout ${idle.timeoutsMs.map(timeoutSeconds).join(" or ")}`;
  }
}

/** "on hop 3 after 1.0 s (proxy idle timeout)", "on hop 3: 1.0 s idle vs the configured timeout 1 s (proxy idle timeout)". */
function idleOnHop(h: HopView, idle: IdleClose): string {
  return `${onHop(h)}${idle.kind === "configured" ? ": " : " "}${idleWords(idle)}`;
}

/** The first close of a completed trace: a plain FIN, or a sidecar closing a quiet connection. */
function firstClose(hops: HopView[], first: Relay, ctx: ExplainContext): string {
  const h = hops[first.hop - 1]!;
  const idle = idleClose(hops, end(h, first.by), first.atUs, ctx.idle);
  const by = nameOf(h, first.by);
  const to = nameOf(h, other(first.by));
  const kind = first.kind === "RST" ? " with a RST" : "";
  if (idle && idle.kind !== "far") return `${by} closed the idle connection to ${to}${kind} ${idleOnHop(h, idle)}`;
  return `${by} closed first with a ${first.kind} ${onHop(h)}${idle ? ` ${idleWords(idle)}` : ""}`;
}

function untraced(o: HopView, oc: HopClass, sender: WireSender | null): string {
  const side = oc.failureSide || "client";
  const receiver = fullNameOf(o, side);
  const from = sender ? formatEndpoint(sender) : missingAddress(o, other(side));
  const pod = sender?.pod ? `pod ${sender.pod}, ` : "";
  return `a RST from ${from} (${pod}network: no traced socket sent it, e.g. an iptables REJECT rule or a middlebox) reached ${receiver} ${onHop(o)}`;
}

/**
 * "app tt-b closed its idle keep-alive connection (idle 2.0 s) 150 µs before
 * sidecar tt-a reused it for a request from app tt-a; the kernel of lab/tt-b
 * answered with a RST (kernel reason TCP_ABORT_ON_DATA); sidecar tt-a returned
 * an error to app tt-a (a RST on hop 1)".
 */
function race(hops: HopView[], classes: HopClass[], r: IdleCloseRaceFacts): string {
  const sh = hops[r.use.sharedHop - 1]!;
  const down = hops[r.use.downHop - 1]!;
  const closerHop = r.closer ? hops[r.closer.hop - 1] : undefined;
  const closer = closerHop && r.closer ? nameOf(closerHop, r.closer.by) : nameOf(sh, "server");
  const sidecar = nameOf(sh, "client");
  const client = nameOf(down, "client");
  const idle = r.idleUs > 0 ? `idle ${seconds(r.idleUs)}` : "idle time unknown";
  const gap = Math.abs(r.gapUs);
  const when = r.gapUs >= 0 ? `${gap} µs before` : `${gap} µs after`;
  // Closing with the request unread turns the close into a RST (TCP_ABORT_ON_CLOSE): no FIN ever left.
  const crossed = r.closedWithRst ? " (the request reached it unread, so its close was a RST)" : r.gapUs < 0 ? " (its FIN and the request crossed)" : "";
  const kernel = r.sender ? `the kernel of ${where(r.sender)}` : `the kernel behind ${missingAddress(sh, "server")}`;
  const dc = classes[r.use.downHop - 1]!;
  const how = dc.resetBy === "server" ? `a RST ${onHop(down)}` : `a FIN ${onHop(down)}`;
  return (
    `${closer} closed its idle keep-alive connection (${idle}) ${when} ${sidecar} reused it for a request from ${client}${crossed}; ` +
    `${kernel} answered with a RST (${reason(r.resetReason)}); ${sidecar} returned an error to ${client} (${how})`
  );
}

/** "the link of this request to the pooled connection on hop 2 is ambiguous (…)". */
function ambiguousLinks(hops: HopView[]): string[] {
  const roots = hops.filter((h) => h.shared && h.linkConfidence === v1.LinkConfidence.LINK_CONFIDENCE_AMBIGUOUS && !(hops[h.parent - 1]?.shared ?? false));
  return roots.map(
    (h) =>
      `the link of this trace to the shared connection on hop ${h.index} is ambiguous (the proxy thread served several connections at once), so that hop may belong to another request`,
  );
}

/** "an agent gap (3 events lost) overlapped this connection; events in it may be missing". */
export function gapOverlapNote(g: GapOverlapFacts): string {
  const which = g.gaps === 1 ? "an agent gap" : `${g.gaps} agent gaps`;
  return `${which} (${gapLossText(g)}) overlapped this connection; events in ${g.gaps === 1 ? "it" : "them"} may be missing`;
}

export function explain(hops: HopView[], classes: HopClass[], tc: TraceClass, ctx: ExplainContext): string {
  const parts: string[] = [];
  const o = tc.originHop > 0 ? hops[tc.originHop - 1]! : null;
  const oc = tc.originHop > 0 ? classes[tc.originHop - 1]! : null;
  switch (tc.outcome) {
    case Outcome.OUTCOME_INCOMPLETE:
      parts.push(`events are missing for ${chain(hops)} (${tc.incompleteReason}), so its outcome is not guessed`);
      break;
    case Outcome.OUTCOME_OPEN:
      parts.push(`${chain(hops)} is still open`);
      break;
    case Outcome.OUTCOME_COMPLETED: {
      const first = tc.propagation[0];
      let s = `${chain(hops)} completed`;
      if (first) {
        s += `; ${firstClose(hops, first, ctx)}`;
        const rest = relays(hops, tc.propagation.slice(1), first.atUs);
        if (rest) s += `, ${rest}`;
      }
      parts.push(s);
      break;
    }
    case Outcome.OUTCOME_REFUSED: {
      const refuser = o!.refusal ?? (o!.server?.phantom ? o!.server : null);
      const dialer = fullNameOf(o!, "client");
      if (refuser) {
        parts.push(
          `nothing listened on ${formatEndpoint(refuser)} in ${where(refuser)}: its kernel answered the SYN from ${dialer} ${onHop(o!)} with a RST (${reason(refuser.rstReason)})`,
        );
      } else {
        parts.push(`${missingAddress(o!, "server")} refused the connection from ${dialer} ${onHop(o!)}`);
      }
      break;
    }
    case Outcome.OUTCOME_RESET_UNTRACED:
      parts.push(untraced(o!, oc!, ctx.untracedSender));
      break;
    case Outcome.OUTCOME_TIMEOUT: {
      const side = oc!.failureSide || "client";
      const v = end(o!, side);
      const who = fullNameOf(o!, side);
      if (oc!.resetReason === ResetReason.RESET_REASON_TCP_KEEPALIVE_TIMEOUT) {
        parts.push(`${who} reset the connection to ${nameOf(o!, other(side))} ${onHop(o!)} when its keepalive probes went unanswered (${reason(oc!.resetReason)})`);
      } else {
        parts.push(`${who} gave up on ${nameOf(o!, other(side))} ${onHop(o!)} after ${v?.retransmits ?? 0} retransmissions`);
      }
      break;
    }
    case Outcome.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE:
      parts.push(ctx.race ? race(hops, classes, ctx.race) : "a pooled upstream connection closed by its peer was reused");
      break;
    case Outcome.OUTCOME_PROCESS_EXIT: {
      const side = oc!.failureSide || "server";
      parts.push(
        `${fullNameOf(o!, side)} exited (crashed or was killed) with its connection to ${nameOf(o!, other(side))} ${onHop(o!)} open: the kernel closed it with a FIN`,
      );
      break;
    }
    default: {
      // RESET_BY_CLIENT / RESET_BY_SERVER
      const side = oc!.failureSide || "server";
      const to = nameOf(o!, other(side));
      const v = end(o!, side);
      // A proxy closing on its idle timeout may abort right after its FIN
      // (HAProxy does when the peer's FIN or data meets the closed socket):
      // the quiet stretch ends at that FIN, its first close, not at the RST.
      const finFirst = v !== null && v.finSentUs > 0 && v.finSentUs < oc!.failureUs;
      const idle = idleClose(hops, v, finFirst ? v.finSentUs : oc!.failureUs, ctx.idle);
      if (idle && idle.kind !== "far" && finFirst) {
        parts.push(`${fullNameOf(o!, side)} closed the idle connection to ${to} ${idleOnHop(o!, idle)}, then reset it (${reason(oc!.resetReason)})`);
      } else if (idle && idle.kind !== "far") {
        parts.push(`${fullNameOf(o!, side)} closed the idle connection to ${to} with a RST ${idleOnHop(o!, idle)}, ${reason(oc!.resetReason)}`);
      } else {
        parts.push(`${fullNameOf(o!, side)} reset the connection to ${to} ${onHop(o!)} (${reason(oc!.resetReason)})${idle ? `, ${idleWords(idle)}` : ""}`);
      }
    }
  }
  // The race's sentence tells its own propagation, from the peer's FIN to the error downstream.
  if (tc.outcome !== Outcome.OUTCOME_COMPLETED && tc.outcome !== Outcome.OUTCOME_OPEN && tc.outcome !== Outcome.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE && oc) {
    const rest = relays(hops, tc.propagation, oc.failureUs);
    if (rest) parts.push(rest);
  }
  for (const note of attemptsNotes(hops, classes, shortName)) {
    // The attempt where the failure began: its story follows the retries.
    if (note.hop === tc.originHop && parts.length > 0) parts[0] = `${note.text}; on the last attempt, ${parts[0]}`;
    else parts.push(note.text);
  }
  parts.push(...ambiguousLinks(hops));
  if (ctx.pooled) parts.push("a sidecar's upstream connection could not be attributed to one request (pooled), so the chain stops there");
  if (ctx.gap) parts.push(gapOverlapNote(ctx.gap));
  const s = parts.join("; ");
  return s.charAt(0).toUpperCase() + s.slice(1) + ".";
}
