// Turning a connected group of sockets into a Trace: walk back from any socket
// to the first hop's client through pairing and proxy links, walk forward to
// the last hop, snapshot every end, classify and explain.
import { Role, v1, type HopEndpoint, type Trace } from "../model/mod.js";
import type { AddressPods } from "./address-pods.js";
import { classifyHop, classifyTrace } from "./classify.js";
import { explain } from "./explain.js";
import type { HopView, SockView } from "./hop-view.js";
import type { IdleCloseOptions } from "./idle-close.js";
import type { NodeState } from "./node-state.js";
import { attemptsOf } from "./proxy-link.js";
import { isRedirected } from "./redirect-link.js";
import { F, NONE, type SocketTable } from "./socket-table.js";
import type { StringTable } from "./string-table.js";
import type { TraceInfo } from "./trace-info.js";
import { socketId, traceId } from "./trace-id.js";
import { untracedSender, type WireSender } from "./untraced-sender.js";

/** Longest chain followed; real ones have at most 3 hops, the bound stops cycles from bad data. */
const MAX_HOPS = 16;

export interface ChainHop {
  client: number;
  server: number;
  refusal: number;
  /** Which of its proxy's connect attempts this hop is, 1-based. */
  attempt: number;
  /** Index of the hop whose server dialed this one, -1 for the first hop. */
  parent: number;
}

export class TraceBuilder {
  readonly #t: SocketTable;
  readonly #strings: StringTable;
  readonly #nodes: NodeState[];
  /** Interned IPs that some traced socket had as its local address, with its pod. */
  readonly #localIps: AddressPods;
  readonly #sockName: (s: number) => string;
  readonly #idle: IdleCloseOptions;

  constructor(
    table: SocketTable,
    strings: StringTable,
    nodes: NodeState[],
    localIps: AddressPods,
    sockName: (s: number) => string,
    idle: IdleCloseOptions,
  ) {
    this.#t = table;
    this.#sockName = sockName;
    this.#strings = strings;
    this.#nodes = nodes;
    this.#localIps = localIps;
    this.#idle = idle;
  }

  /** The hops of the chain containing slot `seed`, first to last. */
  chain(seed: number): ChainHop[] {
    const t = this.#t;
    // A refusal attached to an already-paired client belongs to that client's hop.
    if (t.has(seed, F.PHANTOM) && t.peer[seed] !== NONE && t.peer[t.peer[seed]!] !== seed) seed = t.peer[seed]!;
    let [c, s] = this.#hopOf(seed);
    for (let i = 0; i < MAX_HOPS && c !== NONE && t.down[c] !== NONE; i++) {
      s = t.down[c]!;
      c = t.peer[s]!;
    }
    const hops: ChainHop[] = [];
    const seen = new Set<number>();
    // Depth first: a proxy's connect attempts follow the hop they serve, in
    // order, each followed by whatever it led to.
    const todo = [{ c, s, attempt: 1, parent: -1 }];
    while (todo.length > 0 && hops.length < MAX_HOPS) {
      const h = todo.pop()!;
      if ((h.c !== NONE && seen.has(h.c)) || (h.s !== NONE && seen.has(h.s))) continue;
      if (h.c !== NONE) seen.add(h.c);
      if (h.s !== NONE) seen.add(h.s);
      const refusal = h.c !== NONE && t.aux[h.c] !== NONE ? t.aux[h.c]! : NONE;
      hops.push({ client: h.c, server: h.s, refusal, attempt: h.attempt, parent: h.parent });
      if (h.s === NONE) continue;
      const ups = attemptsOf(t, h.s);
      for (let k = ups.length - 1; k >= 0; k--) todo.push({ c: ups[k]!, s: t.peer[ups[k]!]!, attempt: k + 1, parent: hops.length - 1 });
    }
    return hops;
  }

  /** Every slot of a chain (refusals included). */
  slots(hops: ChainHop[]): number[] {
    const out: number[] = [];
    for (const h of hops) {
      if (h.client !== NONE) out.push(h.client);
      if (h.server !== NONE) out.push(h.server);
      if (h.refusal !== NONE) out.push(h.refusal);
    }
    return out;
  }

  build(hops: ChainHop[]): { trace: Trace; info: TraceInfo } {
    const t = this.#t;
    const views: HopView[] = [];
    hops.forEach((h, i) => {
      const client = h.client !== NONE ? this.#view(h.client) : null;
      const server = h.server !== NONE ? this.#view(h.server) : null;
      const half = client === null || server === null;
      let link = "";
      if (i > 0) link = "proxy";
      else if (h.client !== NONE && t.has(h.client, F.POOLED)) link = "pooled";
      const attempts = h.parent < 0 ? 1 : hops.filter((x) => x.parent === h.parent).length;
      views.push({
        index: i + 1,
        client,
        server,
        refusal: h.refusal !== NONE ? this.#view(h.refusal) : null,
        link,
        redirected: !half && isRedirected(t, h.client, h.server),
        missingExpected: half && this.#missingExpected(h),
        parent: h.parent + 1,
        attempt: h.attempt,
        attempts,
        // Parents come first (depth first), so theirs is already known.
        retried: h.attempt < attempts || (h.parent >= 0 && views[h.parent]!.retried),
      });
    });
    const classes = views.map(classifyHop);
    const tc = classifyTrace(classes, views.map((v) => v.retried));
    const pooled = hops.some((h) => [h.client, h.server].some((s) => s !== NONE && t.has(s, F.POOLED)));
    const root = views[0]!.client ?? views[0]!.server!;
    let startUs = 0;
    let endUs = 0;
    const protoHops = views.map((h, i) => {
      const k = classes[i]!;
      const ends = [h.client, h.server].filter((v): v is SockView => v !== null && !v.phantom);
      const hs = Math.min(...ends.map((v) => v.bornUs).filter((x) => x > 0));
      const open = ends.some((v) => !v.dead);
      const he = open ? 0 : Math.max(0, ...ends.map((v) => v.deathUs), h.server?.phantom ? h.server.deathUs : 0);
      const hopStart = Number.isFinite(hs) ? hs : (h.server?.bornUs ?? 0);
      if (hopStart && (!startUs || hopStart < startUs)) startUs = hopStart;
      if (he > endUs) endUs = he;
      return v1.Hop.create({
        index: h.index,
        client: this.#endpoint(h, "client"),
        server: this.#endpoint(h, "server"),
        originalDestination: originalDestination(h),
        openedBy: k.openedBy,
        firstFinBy: k.firstFinBy,
        resetBy: k.resetBy,
        resetReason: k.resetReason,
        outcome: k.outcome,
        startUs: hopStart,
        endUs: he,
        link: h.link,
        attempt: h.attempt,
        attempts: h.attempts,
      });
    });
    if (classes.some((k) => k.outcome === v1.Outcome.OUTCOME_OPEN)) endUs = 0;
    const origin = tc.originHop > 0 ? views[tc.originHop - 1]! : null;
    const originEnd = origin && tc.originSide ? this.#endpoint(origin, tc.originSide) : null;
    // A RST no traced socket sent: the origin is its sender on the wire, the
    // socket that got it (named by originSide) is the receiver.
    const receiver = tc.outcome === v1.Outcome.OUTCOME_RESET_UNTRACED && origin && tc.originSide ? (tc.originSide === "client" ? origin.client : origin.server) : null;
    const sender = receiver && !receiver.phantom ? untracedSender(receiver, (ip) => this.#podOfAddress(ip)) : null;
    const first = tc.outcome === v1.Outcome.OUTCOME_COMPLETED ? tc.propagation[0] : undefined;
    const trace = v1.Trace.create({
      traceId: traceId(root.socketId),
      outcome: tc.outcome,
      hops: protoHops,
      resetOrigin: sender ? senderEndpoint(sender) : originEnd,
      resetOriginHop: tc.originHop,
      resetReceiver: sender ? originEnd : null,
      firstCloseHop: first?.hop ?? 0,
      firstCloseBy: first?.by ?? "",
      explanation: explain(views, classes, tc, { pooled, idle: this.#idle, untracedSender: sender }),
      startUs,
      endUs,
    });
    return {
      trace,
      info: {
        propagation: tc.propagation,
        pooled,
        incompleteReason: tc.incompleteReason,
        sockets: this.slots(hops).length,
      },
    };
  }

  #hopOf(x: number): [number, number] {
    const t = this.#t;
    if (t.has(x, F.SERVER)) return [t.peer[x]!, x];
    if (t.has(x, F.CLIENT)) return [x, t.peer[x]!];
    // Never born under our eyes: no side is known, so no pairing either.
    return [x, NONE];
  }

  /** The one pod traced sockets were seen bound to `ip`, else "". */
  #podOfAddress(ip: string): string {
    const id = this.#strings.find(ip);
    return id > 0 ? this.#strings.get(this.#localIps.podOf(id)) : "";
  }

  #missingExpected(h: ChainHop): boolean {
    const t = this.#t;
    const present = h.client !== NONE ? h.client : h.server;
    if (present === NONE || t.has(present, F.MIDSTREAM)) return false;
    const ip = t.rip[present]!;
    const s = this.#strings.get(ip);
    // A loopback peer lives in the same namespace as the end we saw; a pod
    // address we have seen sockets bound to is on a traced node.
    return s.startsWith("127.") || s === "::1" || this.#localIps.has(ip);
  }

  #view(s: number): SockView {
    const t = this.#t;
    const str = this.#strings;
    const n = this.#nodes[t.node[s]!]!;
    const f = t.flags[s]!;
    return {
      socketId: t.has(s, F.PHANTOM) ? "" : socketId(n.name, this.#sockName(s), t.birth[s]!),
      node: n.name,
      pod: str.get(t.pod[s]!),
      netns: t.netns[s]!,
      ip: str.get(t.lip[s]!),
      port: t.lport[s]!,
      remoteIp: str.get(t.rip[s]!),
      remotePort: t.rport[s]!,
      uid: t.uid[s]!,
      pid: t.pid[s]!,
      comm: str.get(t.comm[s]!),
      role: t.role[s]!,
      leg: t.leg[s]!,
      phantom: (f & F.PHANTOM) !== 0,
      bornUs: n.wallUs(t.birth[s]!),
      estUs: n.wallUs(t.est[s]!),
      finSentUs: n.wallUs(t.finSent[s]!),
      finRecvUs: n.wallUs(t.finRecv[s]!),
      rstSentUs: n.wallUs(t.rstSent[s]!),
      rstRecvUs: n.wallUs(t.rstRecv[s]!),
      deathUs: n.wallUs(t.death[s]!),
      finSentNs: t.finSent[s]!,
      finRecvNs: t.finRecv[s]!,
      rstSentNs: t.rstSent[s]!,
      rstRecvNs: t.rstRecv[s]!,
      rstReason: t.rstReason[s]!,
      retransmits: t.retrans[s]!,
      closeFrom: t.closeFrom[s]!,
      connectTarget: t.connPort[s] ? { ip: str.get(t.connIp[s]!), port: t.connPort[s]! } : null,
      connectRet: t.connRet[s]!,
      originalDst: t.odstPort[s] ? { ip: str.get(t.odstIp[s]!), port: t.odstPort[s]! } : null,
      dead: (f & F.DEAD) !== 0,
      gap: (f & F.GAP) !== 0,
      midstream: (f & F.MIDSTREAM) !== 0,
      missingClose: (f & F.MISSING_CLOSE) !== 0,
      pooled: (f & F.POOLED) !== 0,
      exitClosed: (f & F.EXIT_CLOSED) !== 0,
    };
  }

  #endpoint(h: HopView, side: "client" | "server"): HopEndpoint {
    const v = side === "client" ? h.client : h.server;
    if (v && !v.phantom) {
      return v1.HopEndpoint.create({
        ip: v.ip,
        port: v.port,
        pod: v.pod,
        netns: v.netns,
        role: v.role,
        leg: v.leg,
        pid: v.pid,
        comm: v.comm,
        uid: v.uid,
        node: v.node,
        socketId: v.socketId,
      });
    }
    if (v) {
      // A refusal: the address that refused, in the namespace and node that refused it.
      return v1.HopEndpoint.create({ ip: v.ip, port: v.port, pod: v.pod, netns: v.netns, node: v.node });
    }
    // An end nobody traced, described from the other end's tuple only.
    const o = side === "client" ? h.server : h.client;
    return v1.HopEndpoint.create({ ip: o?.remoteIp ?? "", port: o?.remotePort ?? 0, netns: 0 });
  }
}

/** The sender of a RST no traced socket sent: an address on the network path, maybe a pod's, never a process. */
function senderEndpoint(s: WireSender): HopEndpoint {
  return v1.HopEndpoint.create({ ip: s.ip, port: s.port, pod: s.pod, role: Role.ROLE_NETWORK, pid: 0, comm: "" });
}

/** What the client meant to reach: its connect target, else the sidecar's SO_ORIGINAL_DST, else the SYN's destination. */
function originalDestination(h: HopView): { ip: string; port: number } | null {
  const c = h.client;
  const s = h.server && !h.server.phantom ? h.server : null;
  if (c?.connectTarget) return c.connectTarget;
  if (s?.originalDst) return s.originalDst;
  if (c && c.remotePort) return { ip: c.remoteIp, port: c.remotePort };
  if (s) return { ip: s.ip, port: s.port };
  return h.server ? { ip: h.server.ip, port: h.server.port } : null;
}
