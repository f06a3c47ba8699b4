// Hold tcptrail's events against the packet ground truth: for every FIN and
// RST on the wire, which traced socket sent it (pod, role, process, reset
// reason), whether that matches the scenario's expectation, which resets no
// traced socket sent, and whether every redirected connection carries its
// original destination. Pure: no I/O, so it is tested with hand-made events.
import { EventKind, type ConnEventInit, type Endpoint, reasonName, roleName, TcpState } from "../model/mod.js";
import { segmentMatches } from "./expectations.js";
import { hasFlag, type WireEndpoint, type WirePacket } from "./ground-truth.js";
import type { ExpectedRole, ExpectedSegment } from "./scenarios/types.js";

export interface TracedEvent {
  node: string;
  event: ConnEventInit;
}

export interface ComparePod {
  netns: string;
  ip: string;
  meshed: boolean;
}

export interface CompareOptions {
  /** The scenario's expectations; segments without one are only checked for having a sender. Default: []. */
  expectations?: readonly ExpectedSegment[];
  /** The lab's pods: which IPs have mesh rules (inbound SYNs there are redirected). Default: [] (no inbound check). */
  pods?: readonly ComparePod[];
  /** Default: 15001. */
  outboundPort?: number;
  /** Default: 15006. */
  inboundPort?: number;
  /** Inbound ports the mesh rules leave alone. Default: [15008, 15090, 15021, 15020]. */
  inboundExcludePorts?: readonly number[];
}

export interface SenderInfo {
  node: string;
  pod: string;
  /** Empty for a reset the kernel sent without a socket (NO_SOCKET). */
  sock: string;
  role: ExpectedRole;
  pid?: number;
  comm?: string;
  /** The event that says it sent the segment: "STATE_CHANGE ESTABLISHED→FIN_WAIT1", "RESET_SENT". */
  evidence: string;
  resetReason?: string;
}

export interface SegmentAttribution {
  packet: WirePacket;
  flag: "FIN" | "RST";
  sender?: SenderInfo;
  /** A RST no traced socket (nor the kernel's no-socket path) reported sending. */
  untraced: boolean;
  expectation?: ExpectedSegment;
  /** Empty when everything agrees. */
  problems: string[];
}

export interface RedirectCheck {
  pod: string;
  direction: "outbound" | "inbound";
  /** The connecting endpoint as on the wire. */
  client: WireEndpoint;
  /** From the wire: the SYN's destination (inbound) or the de-NATed SYN-ACK's source (outbound). */
  originalDst: WireEndpoint;
  /** What SYSCALL_ORIGINAL_DST reported on the accepted socket, if anything. */
  reported?: WireEndpoint;
  sock?: string;
  ok: boolean;
}

export interface ComparisonReport {
  segments: SegmentAttribution[];
  /** RSTs that no traced socket sent (expected only where netfilter rejects). */
  untracedResets: SegmentAttribution[];
  /** Expected segments absent from the wire. */
  missing: ExpectedSegment[];
  redirects: RedirectCheck[];
  ok: boolean;
}

interface SockView {
  node: string;
  pod: string;
  sock: string;
  local?: WireEndpoint;
  remote?: WireEndpoint;
  origDst?: WireEndpoint;
}

const ep = (e: Endpoint | null | undefined): WireEndpoint | undefined =>
  e && e.ip ? { ip: e.ip, port: e.port ?? 0 } : undefined;
const same = (a: WireEndpoint | undefined, b: WireEndpoint | undefined): boolean =>
  !!a && !!b && a.ip === b.ip && a.port === b.port;
const BIRTHS = new Set<number>([TcpState.TCP_STATE_SYN_SENT, TcpState.TCP_STATE_SYN_RECV, TcpState.TCP_STATE_LISTEN]);
/** Entering these states is sending a FIN. */
const FIN_STATES = new Set<number>([TcpState.TCP_STATE_FIN_WAIT1, TcpState.TCP_STATE_LAST_ACK]);

export function compareWithEvents(
  wire: readonly WirePacket[],
  events: readonly TracedEvent[],
  opts: CompareOptions = {},
): ComparisonReport {
  const expectations = opts.expectations ?? [];
  const socks = buildSockets(events);
  const sockOf = (e: TracedEvent): SockView | undefined => socks.byEvent.get(e);
  const used = new Set<TracedEvent>();

  // The sender's socket, seen through NAT: a redirect listener answers from the
  // original destination; a redirected caller's segments go to the listener.
  const fits = (s: SockView, local: WireEndpoint | undefined, remote: WireEndpoint | undefined, p: WirePacket): boolean => {
    const srcOk = same(local, p.src) || (s.origDst !== undefined && same(s.origDst, p.src));
    if (!srcOk) return false;
    if (same(remote, p.dst)) return true;
    return socks.all.some(
      (y) => y.pod === s.pod && y.origDst && same(y.origDst, remote) && same(y.remote, local) && same(y.local, p.dst),
    );
  };

  const segments: SegmentAttribution[] = [];
  for (const p of wire) {
    if (p.direction !== "out") continue;
    const flag = hasFlag(p, "RST") ? "RST" : hasFlag(p, "FIN") ? "FIN" : undefined;
    if (!flag) continue;
    const candidates = events.filter((e) => {
      if (used.has(e) || (e.event.pod ?? "") !== p.netns) return false;
      const ev = e.event;
      if (flag === "RST" && ev.kind !== EventKind.EVENT_KIND_RESET_SENT) return false;
      if (flag === "FIN" && !(ev.kind === EventKind.EVENT_KIND_STATE_CHANGE && FIN_STATES.has(ev.newState ?? 0))) return false;
      const s = sockOf(e) ?? { node: e.node, pod: p.netns, sock: "" };
      return fits(s, ep(ev.local), ep(ev.remote), p);
    });
    const best = closest(candidates, p.tsUs);
    if (best) used.add(best);
    const sender = best ? senderOf(best) : undefined;
    const expectation = expectations.find((e) => segmentMatches(e, p));
    const untraced = flag === "RST" && !sender;
    segments.push({ packet: p, flag, ...(sender ? { sender } : {}), untraced, ...(expectation ? { expectation } : {}), problems: problemsOf(flag, sender, expectation) });
  }

  const missing = expectations.filter((e) => !e.optional && !segments.some((s) => s.expectation === e));
  const redirects = checkRedirects(wire, socks.all, opts);
  const ok =
    segments.every((s) => s.problems.length === 0) && missing.length === 0 && redirects.every((r) => r.ok);
  return { segments, untracedResets: segments.filter((s) => s.untraced), missing, redirects, ok };
}

function problemsOf(flag: "FIN" | "RST", sender: SenderInfo | undefined, e: ExpectedSegment | undefined): string[] {
  const problems: string[] = [];
  if (e?.untraced) {
    if (sender) problems.push(`expected no traced sender, got ${sender.role} in ${sender.pod} (${sender.evidence})`);
    return problems;
  }
  if (!sender) {
    problems.push(`no traced socket sent this ${flag}`);
    return problems;
  }
  if (!e) return problems;
  if (sender.pod !== e.fromPod) problems.push(`pod ${sender.pod}, expected ${e.fromPod}`);
  if (sender.role !== e.role) problems.push(`role ${sender.role}, expected ${e.role}`);
  if (e.pid !== undefined && sender.pid !== e.pid) problems.push(`process ${sender.pid ?? "unknown"}, expected ${e.pid}`);
  if (e.resetReason !== undefined && sender.resetReason !== e.resetReason) {
    problems.push(`reset reason ${sender.resetReason ?? "none"}, expected ${e.resetReason}`);
  }
  return problems;
}

function senderOf(e: TracedEvent): SenderInfo {
  const ev = e.event;
  const sock = ev.sock ?? "";
  const role: ExpectedRole = !sock ? "none" : ev.role ? (roleName(ev.role).toLowerCase() as ExpectedRole) : "app";
  const evidence =
    ev.kind === EventKind.EVENT_KIND_RESET_SENT
      ? "RESET_SENT"
      : `STATE_CHANGE ${stateLabel(ev.oldState)}→${stateLabel(ev.newState)}`;
  return {
    node: e.node,
    pod: ev.pod ?? "",
    sock,
    role,
    ...(ev.owner?.pid ? { pid: ev.owner.pid } : {}),
    ...(ev.owner?.comm ? { comm: ev.owner.comm } : {}),
    evidence,
    ...(ev.kind === EventKind.EVENT_KIND_RESET_SENT ? { resetReason: reasonName(ev.resetReason) } : {}),
  };
}

function stateLabel(s: number | null | undefined): string {
  for (const [k, v] of Object.entries(TcpState)) if (v === s) return k.replace("TCP_STATE_", "");
  return String(s);
}

function closest(events: TracedEvent[], tsUs: number): TracedEvent | undefined {
  let best: TracedEvent | undefined;
  let bestD = Infinity;
  for (const e of events) {
    const t = e.event.timeUs;
    const d = t ? Math.abs(Number(t) - tsUs) : Number.MAX_SAFE_INTEGER;
    if (d < bestD) {
      best = e;
      bestD = d;
    }
  }
  return best;
}

/** Sockets by identity (node, sock, birth): endpoints and the original destination the sidecar read. */
function buildSockets(events: readonly TracedEvent[]): { all: SockView[]; byEvent: Map<TracedEvent, SockView> } {
  const current = new Map<string, SockView>();
  const all: SockView[] = [];
  const byEvent = new Map<TracedEvent, SockView>();
  // Exact kernel order (bigint): past 2^53 ns a Number() difference ties events 1 ns apart.
  const ordered = [...events].sort((a, b) => (a.event.tsNs < b.event.tsNs ? -1 : a.event.tsNs > b.event.tsNs ? 1 : 0));
  for (const e of ordered) {
    const ev = e.event;
    if (!ev.sock) continue;
    const key = `${e.node}/${ev.sock}`;
    // CLOSE→SYN_SENT, CLOSE→LISTEN, LISTEN→SYN_RECV: a new socket at a possibly reused address.
    const born =
      ev.kind === EventKind.EVENT_KIND_STATE_CHANGE &&
      (ev.oldState === TcpState.TCP_STATE_CLOSE || ev.oldState === TcpState.TCP_STATE_LISTEN) &&
      BIRTHS.has(ev.newState ?? 0);
    let s = current.get(key);
    if (!s || born) {
      s = { node: e.node, pod: ev.pod ?? "", sock: ev.sock };
      current.set(key, s);
      all.push(s);
    }
    if (ev.kind === EventKind.EVENT_KIND_SYSCALL_ORIGINAL_DST) {
      const t = ep(ev.target);
      if (t) s.origDst = t;
    } else {
      s.local = ep(ev.local) ?? s.local;
      s.remote = ep(ev.remote) ?? s.remote;
    }
    byEvent.set(e, s);
  }
  return { all, byEvent };
}

function checkRedirects(wire: readonly WirePacket[], socks: SockView[], opts: CompareOptions): RedirectCheck[] {
  const outboundPort = opts.outboundPort ?? 15001;
  const inboundPort = opts.inboundPort ?? 15006;
  const exclude = new Set(opts.inboundExcludePorts ?? [15008, 15090, 15021, 15020]);
  const meshed = new Map((opts.pods ?? []).filter((p) => p.meshed).map((p) => [p.ip, p.netns]));
  const isSyn = (p: WirePacket): boolean => hasFlag(p, "SYN") && !hasFlag(p, "ACK");
  const synAck = (netns: string, to: WireEndpoint, from?: WireEndpoint): WirePacket | undefined =>
    wire.find((q) => q.netns === netns && hasFlag(q, "SYN") && hasFlag(q, "ACK") && same(q.dst, to) && (!from || same(q.src, from)));

  const checks: RedirectCheck[] = [];
  for (const p of wire) {
    if (!isSyn(p) || p.direction !== "out") continue;
    let pod: string | undefined;
    let direction: RedirectCheck["direction"];
    let originalDst: WireEndpoint | undefined;
    let listener: number;
    if (p.iface === "lo" && p.dst.port === outboundPort) {
      // Outbound REDIRECT: the SYN shows the listener, the SYN-ACK (de-NATed) the original destination.
      pod = p.netns;
      direction = "outbound";
      listener = outboundPort;
      originalDst = synAck(p.netns, p.src)?.src;
    } else if (meshed.has(p.dst.ip) && p.iface !== "lo" && !exclude.has(p.dst.port) && p.dst.port !== inboundPort) {
      pod = meshed.get(p.dst.ip);
      direction = "inbound";
      listener = inboundPort;
      // Only connections the listener accepted can have had SO_ORIGINAL_DST read.
      originalDst = pod && synAck(pod, p.src, p.dst) ? p.dst : undefined;
    } else {
      continue;
    }
    if (!pod || !originalDst) continue;
    const accepted = socks.find((s) => s.pod === pod && s.local?.port === listener && same(s.remote, p.src));
    const reported = accepted?.origDst;
    checks.push({
      pod,
      direction,
      client: p.src,
      originalDst,
      ...(reported ? { reported } : {}),
      ...(accepted ? { sock: accepted.sock } : {}),
      ok: same(reported, originalDst),
    });
  }
  return checks;
}
