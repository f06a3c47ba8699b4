// Applying one node's ordered events to socket records: identity across
// pointer reuse, the TCP milestones the classifier needs, attribution, and the
// hand-offs to pairing and proxy linking. Dead sockets stay addressable for a
// linger period so a close() that follows the RST still finds them.
import { EventKind, TcpState, nsSpan, type ConnEvent, type KernelNs } from "../model/mod.js";
import { AddressNodes } from "./address-nodes.js";
import { AddressPods } from "./address-pods.js";
import { GapLog } from "./gap-log.js";
import type { HopPairing } from "./hop-pairing.js";
import type { NodeState } from "./node-state.js";
import type { ResolvedOptions } from "./options.js";
import type { PooledLink } from "./pooled-link.js";
import type { ProxyLink } from "./proxy-link.js";
import type { SockIndex } from "./sock-index.js";
import { F, NONE, type SocketTable } from "./socket-table.js";
import type { StringTable } from "./string-table.js";

const S = TcpState;

export interface RegistryCounters {
  sockets: number;
  malformed: number;
  /** Events about sockets the stitcher does not track (listeners, time-wait, before the agent). */
  untracked: number;
  gaps: number;
  /** Sockets taken as closed inside an agent gap (by their watch's deadline, or by their address's reuse). */
  closedInGap: number;
}

export interface RegistryHooks {
  /** A socket reached CLOSE (or a refusal was recorded): its trace may be finished. */
  onDeath(s: number): void;
}

export class SocketRegistry {
  readonly t: SocketTable;
  readonly counters: RegistryCounters = { sockets: 0, malformed: 0, untracked: 0, gaps: 0, closedInGap: 0 };
  /** Wall ms stamped on sockets born now (max-age); the stitcher updates it per ingest. */
  nowMs = 0;
  /** Interned IPs some traced socket was bound to, with its pod: an end at such an address should be seen. */
  readonly localIps = new AddressPods();
  /** The same addresses with their node, for traces that wait on another node's events. */
  readonly localNodes = new AddressNodes();
  /** Every node's reported gaps, for the traces they overlapped. */
  readonly gaps = new GapLog();

  readonly #strings: StringTable;
  readonly #pairing: HopPairing;
  readonly #proxy: ProxyLink;
  readonly #pooled: PooledLink;
  readonly #o: ResolvedOptions;
  readonly #hooks: RegistryHooks;
  readonly #nodes: NodeState[];
  readonly #socks: SockIndex;

  constructor(
    table: SocketTable,
    socks: SockIndex,
    strings: StringTable,
    pairing: HopPairing,
    proxy: ProxyLink,
    pooled: PooledLink,
    nodes: NodeState[],
    opts: ResolvedOptions,
    hooks: RegistryHooks,
  ) {
    this.t = table;
    this.#socks = socks;
    this.#strings = strings;
    this.#pairing = pairing;
    this.#proxy = proxy;
    this.#pooled = pooled;
    this.#nodes = nodes;
    this.#o = opts;
    this.#hooks = hooks;
  }

  /** The kernel address text of slot `s`. */
  sockName(s: number): string {
    return this.#socks.name(s);
  }

  /** Apply one event of node `n` with kernel time `ts`. Returns false when it could not apply. */
  apply(n: NodeState, ev: ConnEvent, ts: KernelNs): boolean {
    const tu = ev.timeUs;
    if (tu) n.sync(ts, tu);
    switch (ev.kind) {
      case EventKind.EVENT_KIND_STATE_CHANGE:
        return this.#stateChange(n, ev, ts);
      case EventKind.EVENT_KIND_RESET_SENT:
        return this.#resetSent(n, ev, ts);
      case EventKind.EVENT_KIND_GAP:
        this.#gap(n, ev, ts);
        return true;
      case EventKind.EVENT_KIND_SOCKET_LINK:
        return this.#socketLink(n, ev, ts);
      default:
        break;
    }
    if (!ev.sock || ev.kind < EventKind.EVENT_KIND_STATE_CHANGE || ev.kind > EventKind.EVENT_KIND_GAP) {
      this.counters.malformed++;
      return false;
    }
    const s = this.#socks.get(n.index, ev.sock);
    if (s === NONE) {
      this.counters.untracked++;
      return false;
    }
    const t = this.t;
    this.#alive(s);
    switch (ev.kind) {
      case EventKind.EVENT_KIND_RESET_RECEIVED:
        if (!t.rstRecv[s]) t.rstRecv[s] = ts;
        break;
      case EventKind.EVENT_KIND_RETRANSMIT:
        if (t.retrans[s]! < 0xffff) t.retrans[s]!++;
        break;
      case EventKind.EVENT_KIND_SYSCALL_CONNECT: {
        this.#caller(s, ev);
        const target = ev.target;
        if (target?.port) {
          t.connIp[s] = this.#strings.intern(target.ip);
          t.connPort[s] = target.port;
        }
        t.connRet[s] = ev.ret | 0;
        if (ev.process) this.#proxy.connect(n, s, ev.process, ts);
        break;
      }
      case EventKind.EVENT_KIND_SYSCALL_ACCEPT:
        this.#caller(s, ev);
        if (this.#proxy.isDownstream(s)) this.#proxy.offer(n, s, ts);
        break;
      case EventKind.EVENT_KIND_SYSCALL_ORIGINAL_DST: {
        this.#caller(s, ev);
        const target = ev.target;
        if (target?.port) {
          t.odstIp[s] = this.#strings.intern(target.ip);
          t.odstPort[s] = target.port;
          this.#pairing.recheck(s);
        }
        if (this.#proxy.isDownstream(s)) this.#proxy.offer(n, s, ts);
        break;
      }
      default:
        // close(), shutdown(): the state changes that follow tell FIN or RST; keep who called.
        this.#caller(s, ev);
        t.flags[s]! |= F.CLOSE_CALLED;
    }
    return true;
  }

  /** Unmap lingering dead sockets of `n` whose linger expired (all of them with `force`). */
  expire(n: NodeState, force = false): void {
    const t = this.t;
    const q = n.dead;
    const horizon = n.window.releasedTs - nsSpan(this.#o.lingerNs);
    while (q.length > 0) {
      const s = q.peekSlot();
      if (t.gen[s] !== q.peekGen()) {
        q.shift();
        continue;
      }
      if (!force && t.death[s]! > horizon) break;
      q.shift();
      this.#unmap(n, s);
    }
  }

  /** The trace of `s` was emitted: free whatever is no longer addressable. */
  emitted(s: number): void {
    const t = this.t;
    t.flags[s]! |= F.EMITTED;
    if (t.has(s, F.UNMAPPED) && !this.#pooled.held(s)) this.release(s);
  }

  /** Free slot `s`, detaching every reference to it first. */
  release(s: number): void {
    const t = this.t;
    this.#pairing.unregister(s);
    const n = this.#nodes[t.node[s]!]!;
    this.#proxy.forget(n, s);
    const p = t.peer[s]!;
    if (p !== NONE) {
      if (t.peer[p] === s) t.peer[p] = NONE;
      if (t.aux[p] === s) t.aux[p] = NONE;
    }
    const a = t.aux[s]!;
    if (a !== NONE && t.peer[a] === s) t.peer[a] = NONE;
    const unheld = this.#pooled.forget(s);
    this.#proxy.unlink(s);
    if (!t.has(s, F.UNMAPPED)) this.#socks.delete(s);
    this.#socks.forget(s);
    t.free(s);
    // The last trace that needed a pooled upstream's hops let go: free what waited for it.
    if (unheld !== NONE) {
      for (const x of this.#pooled.subtree(unheld)) {
        if (t.flags[x] !== 0 && t.has(x, F.EMITTED) && t.has(x, F.UNMAPPED) && !this.#pooled.held(x)) this.release(x);
      }
    }
  }

  /** A proxy thread's send on one socket of what it read from another: pooled upstream use (pooled-link.ts). */
  #socketLink(n: NodeState, ev: ConnEvent, ts: KernelNs): boolean {
    if (!ev.sock || !ev.linkedSock) {
      this.counters.malformed++;
      return false;
    }
    const s = this.#socks.get(n.index, ev.sock);
    const l = this.#socks.get(n.index, ev.linkedSock);
    if (s === NONE || l === NONE) {
      this.counters.untracked++;
      return false;
    }
    // A send on one after a read from the other: both were alive.
    this.#alive(s);
    this.#alive(l);
    // Not #caller: the thread that relays data is not news about who owns the sockets (retries follow the dialing thread).
    this.#pooled.link(n, s, l, ev.process?.pid ?? 0, ev.linkSources ?? 0, ts);
    return true;
  }

  #stateChange(n: NodeState, ev: ConnEvent, ts: KernelNs): boolean {
    const sock = ev.sock;
    if (!sock) {
      this.counters.malformed++;
      return false;
    }
    const from = ev.oldState;
    const to = ev.newState;
    // Listening sockets are not connections.
    if (to === S.TCP_STATE_LISTEN || (from === S.TCP_STATE_LISTEN && to === S.TCP_STATE_CLOSE)) return true;
    const t = this.t;
    let s = this.#socks.get(n.index, sock);
    const clientBirth = from === S.TCP_STATE_CLOSE && to === S.TCP_STATE_SYN_SENT;
    const serverBirth = from === S.TCP_STATE_LISTEN && to === S.TCP_STATE_SYN_RECV;
    if (clientBirth || serverBirth) {
      if (s !== NONE) {
        // The address is reused: the old incarnation must have closed; if we
        // never saw it close, events were lost.
        if (!t.has(s, F.DEAD)) {
          // Watched since a gap and silent ever since: its close is the one the gap hid.
          if (t.has(s, F.GAP_WATCH)) {
            t.flags[s]! = (t.flags[s]! & ~F.GAP_WATCH) | F.CLOSE_IN_GAP;
            this.counters.closedInGap++;
          } else {
            t.flags[s]! |= F.MISSING_CLOSE;
          }
          this.#die(n, s, ts, t.state[s]!);
        }
        this.#unmap(n, s);
      }
      s = this.#born(n, sock, ts, clientBirth ? F.CLIENT : F.SERVER);
    } else if (s === NONE || t.has(s, F.DEAD)) {
      // A socket we never saw being born: born before the agent, or lost events.
      if (s !== NONE) this.#unmap(n, s);
      s = this.#born(n, sock, ts, F.MIDSTREAM);
    }
    this.#alive(s);
    this.#describe(s, ev);
    if (t.has(s, F.CLIENT | F.SERVER)) this.#pairing.register(s);

    if (to === S.TCP_STATE_ESTABLISHED) {
      if (!t.est[s]) t.est[s] = ts;
    } else if (to === S.TCP_STATE_FIN_WAIT1 || (from === S.TCP_STATE_CLOSE_WAIT && to === S.TCP_STATE_LAST_ACK)) {
      if (!t.finSent[s]) {
        t.finSent[s] = ts;
        this.#closedBy(s);
      }
    } else if (
      to === S.TCP_STATE_CLOSE_WAIT ||
      (from === S.TCP_STATE_FIN_WAIT1 && (to === S.TCP_STATE_CLOSING || to === S.TCP_STATE_TIME_WAIT)) ||
      (from === S.TCP_STATE_FIN_WAIT2 && to === S.TCP_STATE_TIME_WAIT)
    ) {
      if (!t.finRecv[s]) t.finRecv[s] = ts;
    } else if (to === S.TCP_STATE_CLOSE) {
      // tcp_time_wait() hands over to a timewait socket and the full socket goes
      // straight to CLOSE: FIN_WAIT2/CLOSING→CLOSE is the peer's FIN arriving,
      // unless a reset or a retransmission timeout ended it.
      if (
        !t.finRecv[s] &&
        !t.rstRecv[s] &&
        !t.rstSent[s] &&
        t.retrans[s] === 0 &&
        (from === S.TCP_STATE_FIN_WAIT2 || from === S.TCP_STATE_CLOSING || from === S.TCP_STATE_FIN_WAIT1)
      ) {
        t.finRecv[s] = ts;
      }
      this.#die(n, s, ts, from);
    }
    t.state[s] = to;
    return true;
  }

  #resetSent(n: NodeState, ev: ConnEvent, ts: KernelNs): boolean {
    const t = this.t;
    if (!ev.sock) {
      this.#phantom(n, ev, ts);
      return true;
    }
    const s = this.#socks.get(n.index, ev.sock);
    if (s === NONE) {
      this.counters.untracked++;
      return false;
    }
    this.#alive(s);
    if (!t.rstSent[s]) {
      t.rstSent[s] = ts;
      t.rstReason[s] = ev.resetReason;
      if (!t.finSent[s]) this.#closedBy(s);
    }
    return true;
  }

  /**
   * A RST no socket sent (nothing listened, or the connection was already
   * gone): recorded as a dead server-side pseudo-socket so pairing can put it
   * opposite the client it answered.
   */
  #phantom(n: NodeState, ev: ConnEvent, ts: KernelNs): void {
    const t = this.t;
    const s = t.alloc();
    t.flags[s] = F.SERVER | F.PHANTOM | F.DEAD | F.UNMAPPED;
    t.node[s] = n.index;
    t.birth[s] = t.death[s] = t.rstSent[s] = ts;
    t.seenMs[s] = this.nowMs;
    t.rstReason[s] = ev.resetReason;
    this.#describe(s, ev);
    this.#pairing.register(s);
    if (t.peer[s] === NONE) {
      // Nothing to answer (yet): it only matters if the dialer shows up, and the
      // dialer's node may lag; keep it for the linger period.
      // Linger is measured on the death column (kernel time); the queue keeps wall ms.
      n.dead.push(s, t.gen[s]!, this.nowMs);
      t.flags[s]! &= ~F.UNMAPPED;
      return;
    }
    this.#hooks.onDeath(s);
  }

  #gap(n: NodeState, ev: ConnEvent, ts: KernelNs): void {
    this.counters.gaps++;
    const t = this.t;
    const start = ev.gapStartNs;
    this.gaps.record({ node: n.index, startNs: start, endNs: ts, lost: Number(ev.lost ?? 0), estimatedLost: Number(ev.estimatedLost ?? 0) });
    // Rare (agent restarts, lost events): a scan of the table is fine.
    for (let s = 0; s < t.capacity; s++) {
      if (t.flags[s] === 0 || t.node[s] !== n.index || t.has(s, F.UNMAPPED)) continue;
      if (t.birth[s]! > ts) continue;
      if (t.has(s, F.DEAD) && t.death[s]! < start) continue;
      t.flags[s]! |= F.GAP;
      // Opened or closed within the span: that edge may be a guess (what was
      // seen of it may not be all of it). Alive across the whole span: its
      // open and close are seen, only events in between may be missing.
      if (t.birth[s]! >= start || t.has(s, F.DEAD)) t.flags[s]! |= F.GAP_INSIDE;
      // Alive across a span: its close may be one of the events the gap hid,
      // and then none will ever come. Watched: an event of it before the
      // deadline says it lived on; none says its close fell in the gap, and it
      // settles then (stitcher.ts) instead of staying OPEN until maxAgeMs.
      // Why not ask the kernel which sockets still exist after the restart:
      // /proc/net/tcp hashes socket addresses (%pK), so the agent could only
      // match by tuple in each pod's namespace, a scan per restart that still
      // misses a socket whose tuple was reused; the watch is exact about what
      // the events say and bounded in time. A gap without a span (perf-buffer
      // losses, frequent under load) is not watched: every idle socket of a
      // busy node would be settled as closed in it.
      if (start < ts && !t.has(s, F.DEAD | F.EMITTED)) {
        t.flags[s]! |= F.GAP_WATCH;
        n.gapWatch.push(s, t.gen[s]!, n.wallUs(ts) / 1000 + this.#o.gapCloseWaitMs);
      }
    }
  }

  /** An event of `s`: it lived past any gap it was watched for (and was not closed inside it). */
  #alive(s: number): void {
    const t = this.t;
    if (t.flags[s]! & (F.GAP_WATCH | F.CLOSE_IN_GAP)) t.flags[s]! &= ~(F.GAP_WATCH | F.CLOSE_IN_GAP);
  }

  #born(n: NodeState, sock: string, ts: KernelNs, kind: number): number {
    const t = this.t;
    const s = t.alloc();
    t.flags[s] = kind;
    t.node[s] = n.index;
    t.birth[s] = ts;
    t.seenMs[s] = this.nowMs;
    this.#socks.set(n.index, sock, s);
    this.counters.sockets++;
    return s;
  }

  #die(n: NodeState, s: number, ts: KernelNs, from: number): void {
    const t = this.t;
    t.flags[s]! |= F.DEAD;
    t.death[s] = ts;
    t.closeFrom[s] = from;
    n.dead.push(s, t.gen[s]!, this.nowMs);
    this.#hooks.onDeath(s);
  }

  #unmap(n: NodeState, s: number): void {
    const t = this.t;
    if (t.has(s, F.UNMAPPED)) return;
    this.#socks.delete(s);
    t.flags[s]! |= F.UNMAPPED;
    // Free at once what no trace will ever claim: emitted (and no pooled use's trace still reads it), or a refusal nobody answered.
    if ((t.has(s, F.EMITTED) && !this.#pooled.held(s)) || (t.has(s, F.PHANTOM) && t.peer[s] === NONE)) this.release(s);
  }

  /** Addresses, namespace and attribution, filled as events reveal them. */
  #describe(s: number, ev: ConnEvent): void {
    const t = this.t;
    const strings = this.#strings;
    const l = ev.local;
    if (l) {
      if (l.port && !t.lport[s]) {
        t.lport[s] = l.port;
        t.lip[s] = strings.intern(l.ip);
        this.localIps.note(t.lip[s]!, t.pod[s] || strings.intern(ev.pod));
        this.localNodes.note(t.lip[s]!, t.node[s]!);
      } else if (!t.lip[s] && l.ip) t.lip[s] = strings.intern(l.ip);
    }
    const r = ev.remote;
    if (r && r.port && !t.rport[s]) {
      t.rport[s] = r.port;
      t.rip[s] = strings.intern(r.ip);
    }
    if (ev.uid) t.uid[s] = ev.uid;
    if (!t.netns[s] && ev.netns) t.netns[s] = ev.netns;
    if (!t.pod[s] && ev.pod) t.pod[s] = strings.intern(ev.pod);
    if (ev.role) t.role[s] = ev.role;
    if (ev.leg) t.leg[s] = ev.leg;
    const o = ev.owner;
    if (!t.pid[s] && o && o.pid) {
      t.pid[s] = o.pid;
      t.tid[s] = o.tid ?? 0;
      t.comm[s] = strings.intern(o.comm);
    }
  }

  /**
   * The socket's first FIN or RST left: if no close()/shutdown() came before
   * it, the process did not close it; the kernel did, as the process exited.
   */
  #closedBy(s: number): void {
    const t = this.t;
    if (!t.has(s, F.CLOSE_CALLED | F.MIDSTREAM)) t.flags[s]! |= F.EXIT_CLOSED;
  }

  /** Process-context events name the caller for certain. */
  #caller(s: number, ev: ConnEvent): void {
    this.#describe(s, ev);
    const p = ev.process;
    if (p && p.pid) {
      const t = this.t;
      // Same process as last time: skip hashing its comm again.
      if (t.pid[s] === p.pid && t.comm[s] !== 0) {
        t.tid[s] = p.tid ?? 0;
        return;
      }
      t.pid[s] = p.pid;
      t.tid[s] = p.tid ?? 0;
      t.comm[s] = this.#strings.intern(p.comm);
    }
  }
}
