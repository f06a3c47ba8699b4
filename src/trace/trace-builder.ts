// Turning a connected group of sockets into a Trace: walk back from any socket
// to the first hop's client through pairing and proxy links, walk forward to
// the last hop, snapshot every end, classify and explain. A downstream that
// used a pooled upstream (pooled-link.ts) gets that upstream's hop and those
// behind it as shared hops: borrowed from the chain that owns them, clipped
// to this trace's use of the connection.
import { Outcome, Role, v1, type HopEndpoint, type KernelNs, type Trace, type TraceInit } from "../model/mod.js";
import type { AddressPods } from "./address-pods.js";
import { classifyHop, classifyTrace } from "./classify.js";
import { explain } from "./explain.js";
import type { GapLog, GapOverlapFacts } from "./gap-log.js";
import type { HopView, SockView } from "./hop-view.js";
import type { IdleCloseOptions } from "./idle-close.js";
import { idleCloseRace, type IdleCloseRaceFacts, type PooledUse } from "./idle-close-race.js";
import type { PooledLink } from "./pooled-link.js";
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
  /** The downstream slot whose use of a shared (pooled) connection this hop belongs to: its use clips the hop. NONE when not shared. */
  use: number;
  /** Reached through a pooled link: another chain owns its sockets (this trace neither waits for nor emits them). */
  borrowed: boolean;
  /** The pooled connection itself, entered from `use` by a SOCKET_LINK (not a connect attempt). */
  pooledEntry: boolean;
}

export interface BuilderOptions extends IdleCloseOptions {
  raceCrossingWindowNs: number;
}

/** LinkConfidence values (trace.proto). */
const CONFIDENCE = v1.LinkConfidence;

/** The view of `v` as of `endUs`: end events after it are another use's. */
function clipped(v: SockView | null, endUs: number): SockView | null {
  if (!v || !endUs) return v;
  const c = { ...v };
  if (c.finSentUs > endUs) [c.finSentUs, c.finSentNs] = [0, 0n];
  if (c.finRecvUs > endUs) [c.finRecvUs, c.finRecvNs] = [0, 0n];
  if (c.rstSentUs > endUs) [c.rstSentUs, c.rstSentNs] = [0, 0n];
  if (c.rstRecvUs > endUs) [c.rstRecvUs, c.rstRecvNs] = [0, 0n];
  if (c.deathUs > endUs) {
    c.deathUs = 0;
    c.dead = false;
    c.closeFrom = 0;
  }
  return c;
}

/** The smaller of two kernel times, 0n meaning "never". */
function earlier(a: KernelNs, b: KernelNs): KernelNs {
  if (a === 0n) return b;
  if (b === 0n) return a;
  return a < b ? a : b;
}

export class TraceBuilder {
  readonly #t: SocketTable;
  readonly #strings: StringTable;
  readonly #nodes: NodeState[];
  /** Interned IPs that some traced socket had as its local address, with its pod. */
  readonly #localIps: AddressPods;
  readonly #sockName: (s: number) => string;
  readonly #pooled: PooledLink;
  readonly #o: BuilderOptions;
  readonly #gaps: GapLog;

  constructor(
    table: SocketTable,
    strings: StringTable,
    nodes: NodeState[],
    localIps: AddressPods,
    sockName: (s: number) => string,
    pooled: PooledLink,
    opts: BuilderOptions,
    gaps: GapLog,
  ) {
    this.#gaps = gaps;
    this.#t = table;
    this.#sockName = sockName;
    this.#strings = strings;
    this.#nodes = nodes;
    this.#localIps = localIps;
    this.#pooled = pooled;
    this.#o = opts;
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
    const todo = [{ c, s, attempt: 1, parent: -1, use: NONE, borrowed: false, pooledEntry: false }];
    while (todo.length > 0 && hops.length < MAX_HOPS) {
      const h = todo.pop()!;
      if ((h.c !== NONE && seen.has(h.c)) || (h.s !== NONE && seen.has(h.s))) continue;
      if (h.c !== NONE) seen.add(h.c);
      if (h.s !== NONE) seen.add(h.s);
      const refusal = h.c !== NONE && t.aux[h.c] !== NONE ? t.aux[h.c]! : NONE;
      hops.push({ client: h.c, server: h.s, refusal, attempt: h.attempt, parent: h.parent, use: h.use, borrowed: h.borrowed, pooledEntry: h.pooledEntry });
      if (h.s === NONE) continue;
      const at = hops.length - 1;
      // After the connect attempts (a stack): the pooled connection this downstream used.
      const pooled = this.#pooled.poolOf(h.s);
      if (pooled !== NONE) {
        todo.push({ c: pooled, s: t.peer[pooled]!, attempt: 1, parent: at, use: h.borrowed ? h.use : h.s, borrowed: true, pooledEntry: true });
      }
      const ups = attemptsOf(t, h.s);
      for (let k = ups.length - 1; k >= 0; k--) {
        const a = ups[k]!;
        // Its own upstream, shared with later downstreams: this trace's use of it ends where theirs begins.
        const use = h.use !== NONE ? h.use : t.has(a, F.SHARED) ? h.s : NONE;
        todo.push({ c: a, s: t.peer[a]!, attempt: k + 1, parent: at, use, borrowed: h.borrowed, pooledEntry: false });
      }
    }
    return hops;
  }

  /** Every slot a chain owns (refusals included; not the shared hops it borrowed from another chain). */
  slots(hops: ChainHop[]): number[] {
    const out: number[] = [];
    for (const h of hops) {
      if (h.borrowed) continue;
      if (h.client !== NONE) out.push(h.client);
      if (h.server !== NONE) out.push(h.server);
      if (h.refusal !== NONE) out.push(h.refusal);
    }
    return out;
  }

  build(hops: ChainHop[]): { trace: Trace; info: TraceInfo } {
    const t = this.#t;
    const views: HopView[] = [];
    const uses = new Map<number, { startUs: number; endUs: number; confidence: number }>();
    const pooledUses: PooledUse[] = [];
    hops.forEach((h, i) => {
      const use = h.use !== NONE ? this.#useOf(h, uses) : null;
      const endUs = use?.endUs ?? 0;
      const client = clipped(h.client !== NONE ? this.#view(h.client) : null, endUs);
      const server = clipped(h.server !== NONE ? this.#view(h.server) : null, endUs);
      const half = client === null || server === null;
      let link = "";
      if (i > 0) link = "proxy";
      else if (h.client !== NONE && t.has(h.client, F.POOLED)) link = "pooled";
      // A pooled connection is no connect attempt: it counts neither itself nor among its downstream's attempts.
      const attempts = h.parent < 0 || h.pooledEntry ? 1 : hops.filter((x) => x.parent === h.parent && !x.pooledEntry).length;
      if (h.pooledEntry) {
        pooledUses.push({ downHop: h.parent + 1, sharedHop: i + 1, reuseNs: this.#pooled.reuseOf(h.use), idleSinceNs: this.#pooled.idleSinceOf(h.use) });
      }
      views.push({
        index: i + 1,
        client,
        server,
        refusal: clipped(h.refusal !== NONE ? this.#view(h.refusal) : null, endUs),
        link,
        redirected: !half && isRedirected(t, h.client, h.server),
        missingExpected: half && this.#missingExpected(h),
        parent: h.parent + 1,
        attempt: h.attempt,
        attempts,
        // Parents come first (depth first), so theirs is already known.
        retried: h.attempt < attempts || (h.parent >= 0 && views[h.parent]!.retried),
        shared: use !== null,
        useStartUs: use?.startUs ?? 0,
        useEndUs: endUs,
        linkConfidence: use?.confidence ?? CONFIDENCE.LINK_CONFIDENCE_UNSPECIFIED,
      });
    });
    const classes = views.map(classifyHop);
    const shared = views.map((v) => v.shared);
    let tc = classifyTrace(classes, views.map((v) => v.retried), shared);
    const race = tc.outcome === Outcome.OUTCOME_INCOMPLETE ? null : idleCloseRace(views, classes, pooledUses, this.#o.raceCrossingWindowNs);
    if (race) {
      // The failure began where the peer closed its idle connection first (or at the RST's sender, when no FIN was seen behind it).
      const origin = race.closer ?? { hop: race.use.sharedHop, by: "server" as const };
      tc = { ...tc, outcome: Outcome.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE, originHop: origin.hop, originSide: origin.by };
    }
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
      // A borrowed connection began before this trace did: the trace starts with its own hops.
      if (hopStart && !hops[i]!.borrowed && (!startUs || hopStart < startUs)) startUs = hopStart;
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
        openedUs: k.openedUs,
        firstFinUs: k.firstFinUs,
        resetUs: k.resetUs,
        outcome: k.outcome,
        startUs: hopStart,
        endUs: he,
        link: h.link,
        attempt: h.attempt,
        attempts: h.attempts,
        shared: h.shared,
        useStartUs: h.useStartUs,
        useEndUs: h.useEndUs,
        linkConfidence: h.linkConfidence,
      });
    });
    // A shared connection still open is the pool's, not this trace's.
    if (classes.some((k, i) => k.outcome === v1.Outcome.OUTCOME_OPEN && !shared[i])) endUs = 0;
    const origin = tc.originHop > 0 ? views[tc.originHop - 1]! : null;
    const originEnd = origin && tc.originSide ? this.#endpoint(origin, tc.originSide) : null;
    // A RST no traced socket sent: the origin is its sender on the wire, the
    // socket that got it (named by originSide) is the receiver.
    const receiver = tc.outcome === v1.Outcome.OUTCOME_RESET_UNTRACED && origin && tc.originSide ? (tc.originSide === "client" ? origin.client : origin.server) : null;
    const sender = receiver && !receiver.phantom ? untracedSender(receiver, (ip) => this.#podOfAddress(ip)) : null;
    const first = tc.outcome === v1.Outcome.OUTCOME_COMPLETED ? tc.propagation[0] : undefined;
    // INCOMPLETE already says events are missing; any other outcome says a gap
    // overlapped it, and so does a close lost in a gap (its span and estimate
    // are all there is to say about that close).
    const closeInGap = views.some((v) => v.client?.closeInGap || v.server?.closeInGap);
    const gap = tc.outcome === v1.Outcome.OUTCOME_INCOMPLETE && !closeInGap ? null : this.#gapOverlap(hops);
    const trace = v1.Trace.create({
      traceId: traceId(root.socketId),
      outcome: tc.outcome,
      hops: protoHops,
      resetOrigin: sender ? senderEndpoint(sender) : originEnd,
      resetOriginHop: tc.originHop,
      resetReceiver: sender ? originEnd : null,
      firstCloseHop: first?.hop ?? 0,
      firstCloseBy: first?.by ?? "",
      explanation: explain(views, classes, tc, { pooled, idle: this.#o, untracedSender: sender, race, gap }),
      startUs,
      endUs,
      race: race ? raceMessage(race) : null,
      gapOverlap: gap,
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

  /** The gaps that overlapped this trace's own sockets (each counted once), or null when none did. */
  #gapOverlap(hops: ChainHop[]): GapOverlapFacts | null {
    const t = this.#t;
    const seen = new Set<object>();
    const out: GapOverlapFacts = { gaps: 0, startUs: 0, endUs: 0, lost: 0, estimatedLost: 0 };
    for (const s of this.slots(hops)) {
      if (!t.has(s, F.GAP)) continue;
      const n = this.#nodes[t.node[s]!]!;
      for (const g of this.#gaps.overlapping(n.index, t.birth[s]!, t.death[s]!)) {
        if (seen.has(g)) continue;
        seen.add(g);
        out.gaps++;
        out.lost += g.lost;
        out.estimatedLost += g.estimatedLost;
        const startUs = n.wallUs(g.startNs);
        const endUs = n.wallUs(g.endNs);
        if (!out.startUs || startUs < out.startUs) out.startUs = startUs;
        if (endUs > out.endUs) out.endUs = endUs;
      }
    }
    return out.gaps > 0 ? out : null;
  }

  /** This trace's use of the shared connection hop `h` belongs to, computed at its first (topmost) hop. */
  #useOf(h: ChainHop, uses: Map<number, { startUs: number; endUs: number; confidence: number }>): { startUs: number; endUs: number; confidence: number } {
    const known = uses.get(h.use);
    if (known) return known;
    const t = this.#t;
    const d = h.use;
    const n = this.#nodes[t.node[d]!]!;
    const start = h.borrowed ? this.#pooled.reuseOf(d) : t.birth[h.client]!;
    const end = earlier(this.#pooled.useEndOf(d), t.death[d]!);
    const use = {
      startUs: n.wallUs(start),
      endUs: n.wallUs(end),
      confidence: t.has(d, F.LINK_AMBIGUOUS) ? CONFIDENCE.LINK_CONFIDENCE_AMBIGUOUS : CONFIDENCE.LINK_CONFIDENCE_CERTAIN,
    };
    uses.set(d, use);
    return use;
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
      labels: n.podLabels.get(str.get(t.pod[s]!)),
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
      gapInside: (f & F.GAP_INSIDE) !== 0,
      closeInGap: (f & F.CLOSE_IN_GAP) !== 0,
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
        ...(v.labels !== undefined ? { labels: { ...v.labels } } : {}),
      });
    }
    if (v) {
      // A refusal: the address that refused, in the namespace and node that refused it.
      return v1.HopEndpoint.create({ ip: v.ip, port: v.port, pod: v.pod, netns: v.netns, node: v.node, ...(v.labels !== undefined ? { labels: { ...v.labels } } : {}) });
    }
    // An end nobody traced, described from the other end's tuple only.
    const o = side === "client" ? h.server : h.client;
    return v1.HopEndpoint.create({ ip: o?.remoteIp ?? "", port: o?.remotePort ?? 0, netns: 0 });
  }
}

function raceMessage(r: IdleCloseRaceFacts): NonNullable<TraceInit["race"]> {
  return {
    idleUs: r.idleUs,
    gapUs: r.gapUs,
    resetReason: r.resetReason,
    sharedHop: r.use.sharedHop,
    firstCloseHop: r.closer?.hop ?? 0,
    firstCloseBy: r.closer?.by ?? "",
  };
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
