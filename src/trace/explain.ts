// One sentence per trace: who did what, and why. Names come from the socket
// snapshots (role, pod, command, pid), addresses from the tuple when an end
// was not traced.
import { formatEndpoint, Outcome, reasonName, ResetReason, Role } from "../model/mod.js";
import { attemptsNotes } from "./attempts-note.js";
import type { HopClass, Side, TraceClass } from "./classify.js";
import type { HopView, SockView } from "./hop-view.js";
import type { Relay } from "./trace-info.js";

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

function other(side: Side): Side {
  return side === "client" ? "server" : "client";
}

function ms(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  const v = us / 1000;
  return v < 10 ? `${Math.round(v * 10) / 10} ms` : `${Math.round(v)} ms`;
}

function relays(hops: HopView[], list: Relay[], sinceUs: number): string {
  let previousReceiver = "";
  return list
    .map((r, i) => {
      const h = hops[r.hop]!;
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

export function explain(hops: HopView[], classes: HopClass[], tc: TraceClass, pooled: boolean): string {
  const parts: string[] = [];
  const o = tc.originHop >= 0 ? hops[tc.originHop]! : null;
  const oc = tc.originHop >= 0 ? classes[tc.originHop]! : null;
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
        const h = hops[first.hop]!;
        const closer = end(h, first.by);
        s += `; ${nameOf(h, first.by)} closed first with a ${first.kind}`;
        if (closer?.role === Role.ROLE_SIDECAR && first.hop === 0 && first.by === "server") s += " (the sidecar's own decision, e.g. an idle timeout)";
        const rest = relays(hops, tc.propagation.slice(1), first.atUs);
        if (rest) s += `, ${rest}`;
      }
      parts.push(s);
      break;
    }
    case Outcome.OUTCOME_REFUSED: {
      const refuser = o!.refusal ?? (o!.server?.phantom ? o!.server : null);
      const dialer = o!.client ? fullName(o!.client) : missingAddress(o!, "client");
      if (refuser) {
        parts.push(
          `nothing listened on ${formatEndpoint(refuser)} in ${where(refuser)}: its kernel answered the SYN from ${dialer} with a RST (${reason(refuser.rstReason)})`,
        );
      } else {
        parts.push(`${missingAddress(o!, "server")} refused the connection from ${dialer}`);
      }
      break;
    }
    case Outcome.OUTCOME_RESET_UNTRACED: {
      const side = oc!.failureSide || "client";
      const receiver = end(o!, side);
      parts.push(
        `${receiver ? fullName(receiver) : nameOf(o!, side)} received a RST from ${missingAddress(o!, other(side) === "server" ? "server" : "client")} that no traced socket sent (a middlebox or an iptables REJECT rule)`,
      );
      break;
    }
    case Outcome.OUTCOME_TIMEOUT: {
      const side = oc!.failureSide || "client";
      const v = end(o!, side);
      const who = v ? fullName(v) : nameOf(o!, side);
      if (oc!.resetReason === ResetReason.RESET_REASON_TCP_KEEPALIVE_TIMEOUT) {
        parts.push(`${who} reset the connection when its keepalive probes went unanswered (${reason(oc!.resetReason)})`);
      } else {
        parts.push(`${who} gave up on ${nameOf(o!, other(side))} after ${v?.retransmits ?? 0} retransmissions`);
      }
      break;
    }
    case Outcome.OUTCOME_PROCESS_EXIT: {
      const side = oc!.failureSide || "server";
      const v = end(o!, side);
      parts.push(
        `${v ? fullName(v) : nameOf(o!, side)} exited (crashed or was killed) with its connection to ${nameOf(o!, other(side))} open: the kernel closed it with a FIN`,
      );
      break;
    }
    default: {
      // RESET_BY_CLIENT / RESET_BY_SERVER
      const side = oc!.failureSide || "server";
      const v = end(o!, side);
      parts.push(`${v ? fullName(v) : nameOf(o!, side)} reset the connection to ${nameOf(o!, other(side))} (${reason(oc!.resetReason)})`);
    }
  }
  if (tc.outcome !== Outcome.OUTCOME_COMPLETED && tc.outcome !== Outcome.OUTCOME_OPEN && oc) {
    const rest = relays(hops, tc.propagation, oc.failureUs);
    if (rest) parts.push(rest);
  }
  for (const note of attemptsNotes(hops, classes, shortName)) {
    // The attempt where the failure began: its story follows the retries.
    if (note.hop === tc.originHop && parts.length > 0) parts[0] = `${note.text}; on the last attempt, ${parts[0]}`;
    else parts.push(note.text);
  }
  if (pooled) parts.push("a sidecar's upstream connection could not be attributed to one request (pooled), so the chain stops there");
  const s = parts.join("; ");
  return s.charAt(0).toUpperCase() + s.slice(1) + ".";
}
