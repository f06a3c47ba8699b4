// The stitcher: one node's ordered events in, finished traces out. Pure and in
// memory: the caller feeds batches (from JetStream, a fixture, a bench) and
// drives time with tick(); nothing here does I/O.
import { Outcome, type ConnEvent, type KernelNs } from "../model/mod.js";
import { HopPairing } from "./hop-pairing.js";
import { NodeState } from "./node-state.js";
import { resolveOptions, type ResolvedOptions, type StitcherOptions } from "./options.js";
import { PooledLink } from "./pooled-link.js";
import { ProxyLink } from "./proxy-link.js";
import { SockIndex } from "./sock-index.js";
import { SocketRegistry } from "./socket-registry.js";
import { F, NONE, SocketTable } from "./socket-table.js";
import { TooManyNodesError } from "./errors.js";
import { StringTable } from "./string-table.js";
import { TraceBuilder, type ChainHop } from "./trace-builder.js";

interface HeldTrace {
  slot: number;
  gen: number;
  /** When its socket closed, in its node's event time (wall ms). */
  closedMs: number;
  /** Index of the node it waits for. */
  waitOn: number;
}

/** A loopback peer is on the socket's own node, whatever other nodes bound that address. */
function isLoopback(ip: string): boolean {
  return ip.startsWith("127.") || ip === "::1";
}

/** Sockets record their node in a Uint16Array (socket-table.ts): this many nodes fit. */
export const MAX_NODES = 0xffff;

export interface StitcherStats {
  /** Events accepted by ingest(). */
  events: number;
  /** Sockets ever tracked (connection sockets; listeners are ignored). */
  sockets: number;
  /** Tracked sockets not yet closed. */
  liveSockets: number;
  /** Slots in use: live sockets, closed ones lingering or awaiting their trace, refusals. */
  trackedSlots: number;
  hops: number;
  traces: number;
  incomplete: number;
  /** Events that arrived out of order and were put back in place by the window. */
  reordered: number;
  /** Events older than what was already released, applied late. */
  late: number;
  /** Late events that found nothing to apply to. */
  lateDropped: number;
  /** Events that cannot be valid (no kind, no timestamp, no socket where one is needed). */
  malformed: number;
  /** Events about sockets not tracked (listeners, time-wait, opened before the agent). */
  untracked: number;
  gaps: number;
  /** Sockets alive across an agent gap that showed nothing for gapCloseWaitMs after it: taken as closed inside it. */
  closedInGap: number;
  /** Upstream connects that several downstreams could own. */
  pooled: number;
  /** Upstream connects linked as a proxy's retry of a failed attempt (each its own hop in the same trace). */
  retries: number;
  /** Downstreams a SOCKET_LINK linked to a pooled upstream they did not dial (shared hops in their traces). */
  sharedLinks: number;
  /** Of those links (and their first users'), the ones reported AMBIGUOUS. */
  ambiguousLinks: number;
  /** Events waiting in reorder windows. */
  buffered: number;
}

export class Stitcher {
  readonly #o: ResolvedOptions;
  readonly #t: SocketTable;
  readonly #strings = new StringTable();
  readonly #nodes = new Map<string, NodeState>();
  readonly #nodeList: NodeState[] = [];
  readonly #pairing: HopPairing;
  readonly #proxy: ProxyLink;
  readonly #pooled: PooledLink;
  readonly #registry: SocketRegistry;
  readonly #builder: TraceBuilder;
  /**
   * Settled traces whose missing end lives on another node that has not
   * caught up with their close yet (its agent may be stalled with that end's
   * events): rare, so a plain list rechecked on each settle.
   */
  #held: HeldTrace[] = [];
  #lastAgeScanMs = 0;
  #events = 0;
  #late = 0;
  #lateDropped = 0;
  #malformed = 0;
  #live = 0;
  #hops = 0;
  #traces = 0;
  #incomplete = 0;
  // Release callback bound once; #current is the node being released.
  #current: NodeState | null = null;
  readonly #sink = (ev: ConnEvent, ts: KernelNs): void => {
    this.#registry.apply(this.#current!, ev, ts);
  };

  constructor(opts: StitcherOptions = {}) {
    this.#o = resolveOptions(opts);
    this.#t = new SocketTable(this.#o.initialCapacity);
    this.#pairing = new HopPairing(this.#t, this.#strings, this.#o);
    this.#proxy = new ProxyLink(this.#t, this.#o);
    this.#pooled = new PooledLink(this.#t, this.#proxy, this.#o.initialCapacity);
    this.#registry = new SocketRegistry(this.#t, new SockIndex(this.#t), this.#strings, this.#pairing, this.#proxy, this.#pooled, this.#nodeList, this.#o, {
      onDeath: (s) => {
        if (!this.#t.has(s, F.PHANTOM)) this.#live--;
        // Keyed by when it closed in its node's event time, not when we heard of
        // it: a stalled agent's late events must not age the trace.
        const n = this.#nodeList[this.#t.node[s]!]!;
        n.settling.push(s, this.#t.gen[s]!, n.wallUs(this.#t.death[s]!) / 1000);
      },
    });
    this.#builder = new TraceBuilder(
      this.#t,
      this.#strings,
      this.#nodeList,
      this.#registry.localIps,
      (s) => this.#registry.sockName(s),
      this.#pooled,
      this.#o,
      this.#registry.gaps,
    );
  }

  /**
   * Feed one batch of node `node`'s events (kernel-time order expected, small
   * disorder tolerated). Finished traces are delivered through `onTrace`.
   */
  ingest(node: string, events: readonly ConnEvent[]): void {
    const now = this.#o.clock();
    this.#registry.nowMs = now;
    const n = this.#node(node);
    n.lastIngestMs = now;
    const w = n.window;
    const before = this.#registry.counters.sockets;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i];
      if (!ev || typeof ev.kind !== "number") {
        this.#malformed++;
        continue;
      }
      const ts = ev.tsNs;
      // Kernel times are exact bigints (decodeBatch); anything else, or 0, is not an event time.
      if (typeof ts !== "bigint" || ts <= 0n) {
        this.#malformed++;
        continue;
      }
      this.#events++;
      n.saw(ts);
      const labels = ev.podLabels;
      if (labels !== undefined && ev.pod) n.podLabels.note(ev.pod, labels);
      if (this.#o.reorderWindowNs === 0 || !w.push(ev, ts)) {
        if (this.#o.reorderWindowNs !== 0) this.#late++;
        if (!this.#registry.apply(n, ev, ts) && this.#o.reorderWindowNs !== 0) this.#lateDropped++;
      }
    }
    this.#current = n;
    w.release(this.#sink);
    this.#live += this.#registry.counters.sockets - before;
    this.#registry.expire(n);
    // Only this node's clock moved (tick() moves the others'); what waited on it may go too.
    this.#settleNode(n, now, false);
    this.#settleHeld(now, false);
  }

  /**
   * Node `node`'s agent says every event it read up to kernel time
   * `watermarkNs` (wall µs `watermarkTimeUs`) has been fed here: an idle node
   * is not a stalled one. Its event time moves to the watermark at once, its
   * window may release everything (nothing older can come), and what waited
   * on it (its own traces, others' whose missing end is at its addresses)
   * settles now instead of after stallMaxMs. The caller passes on only
   * heartbeats whose events were all fed (consumer/service.ts). A node never
   * heard from is ignored: nothing can wait on it.
   */
  heartbeat(node: string, watermarkNs: KernelNs, watermarkTimeUs: number): void {
    const n = this.#nodes.get(node);
    if (!n || watermarkNs <= 0n) return;
    const now = this.#o.clock();
    this.#registry.nowMs = now;
    n.lastIngestMs = now;
    if (watermarkNs > n.newestNs) {
      // The agent converts it as it converts its events' times: a fresh clock pair.
      n.sync(watermarkNs, watermarkTimeUs);
      n.saw(watermarkNs);
    }
    this.#releaseAll(n);
    this.#settleNode(n, now, false);
    this.#settleHeld(now, false);
  }

  /**
   * Let time pass (wall ms): release quiet nodes' windows, expire lingering
   * sockets, emit traces that settled, and emit as OPEN those older than maxAgeMs.
   * Lingering and settling follow each node's event time (NodeState.nowMs),
   * which stands still while a node is silent, so a stalled agent's sockets
   * stay addressable and its half-seen connections unfinished until it resumes.
   */
  tick(nowMs: number = this.#o.clock()): void {
    this.#registry.nowMs = nowMs;
    for (const n of this.#nodeList) {
      const quietMs = nowMs - n.lastIngestMs;
      if (n.window.buffered > 0 && quietMs >= this.#o.reorderWindowMs) this.#releaseAll(n);
      const ranOnMs = this.#nodeNow(n, nowMs) - n.wallUs(n.newestNs) / 1000;
      this.#registry.expire(n, ranOnMs >= this.#o.lingerMs);
    }
    this.#settle(nowMs, false);
    if (nowMs - this.#lastAgeScanMs >= Math.min(this.#o.maxAgeMs / 4, 60_000)) {
      this.#lastAgeScanMs = nowMs;
      this.#emitOld(nowMs - this.#o.maxAgeMs);
    }
  }

  /** Release every buffered event and emit every trace whose sockets are all closed, without waiting to settle. */
  flush(): void {
    for (const n of this.#nodeList) this.#releaseAll(n);
    this.#settle(Infinity, true);
  }

  /** flush(), then emit every remaining trace as it stands (OPEN): for shutdown. */
  drain(): void {
    this.flush();
    this.#emitOld(Infinity);
  }

  stats(): StitcherStats {
    let reordered = 0;
    let buffered = 0;
    for (const n of this.#nodeList) {
      reordered += n.window.reordered;
      buffered += n.window.buffered;
    }
    const c = this.#registry.counters;
    return {
      events: this.#events,
      sockets: c.sockets,
      liveSockets: this.#live,
      trackedSlots: this.#t.used,
      hops: this.#hops,
      traces: this.#traces,
      incomplete: this.#incomplete,
      reordered,
      late: this.#late,
      lateDropped: this.#lateDropped,
      malformed: this.#malformed + c.malformed,
      untracked: c.untracked,
      gaps: c.gaps,
      closedInGap: c.closedInGap,
      pooled: this.#proxy.ambiguous,
      retries: this.#proxy.retries,
      sharedLinks: this.#pooled.links,
      ambiguousLinks: this.#pooled.ambiguous,
      buffered,
    };
  }

  #node(name: string): NodeState {
    let n = this.#nodes.get(name);
    if (!n) {
      if (this.#nodeList.length >= MAX_NODES) {
        throw new TooManyNodesError(`too many nodes: a stitcher tells at most ${MAX_NODES} apart (new node ${JSON.stringify(name)})`, { limit: MAX_NODES });
      }
      n = new NodeState(name, this.#nodeList.length, this.#o.reorderWindowNs);
      this.#nodes.set(name, n);
      this.#nodeList.push(n);
    }
    return n;
  }

  #releaseAll(n: NodeState): void {
    const before = this.#registry.counters.sockets;
    this.#current = n;
    n.window.release(this.#sink, true);
    this.#live += this.#registry.counters.sockets - before;
    this.#registry.expire(n);
  }

  #nodeNow(n: NodeState, wallMs: number): number {
    return n.nowMs(wallMs, this.#o.nodeLiveMs, this.#o.stallMaxMs);
  }

  /** Emit the traces that settled: on each node's event time, or all of them with `force`. */
  #settle(nowMs: number, force: boolean): void {
    for (const n of this.#nodeList) this.#settleNode(n, nowMs, force);
    this.#settleHeld(nowMs, force);
  }

  #settleNode(n: NodeState, nowMs: number, force: boolean): void {
    const t = this.#t;
    const q = n.settling;
    const horizon = force ? Infinity : this.#nodeNow(n, nowMs) - this.#o.settleMs;
    while (q.length > 0) {
      if (q.peekTime() > horizon) break;
      const s = q.peekSlot();
      const closedMs = q.peekTime();
      const stale = t.gen[s] !== q.peekGen();
      q.shift();
      if (stale) continue;
      this.#settleSlot(s, t.gen[s]!, closedMs, nowMs, force);
    }
    if (!force) this.#expireGapWatches(n, nowMs);
  }

  /**
   * Sockets watched since one of `n`'s gaps (socket-registry.ts #gap) that
   * showed nothing by their deadline in `n`'s event time: their close is
   * taken as lost in the gap, and their traces settle now. Not on flush():
   * a deadline not reached says nothing yet.
   */
  #expireGapWatches(n: NodeState, nowMs: number): void {
    const t = this.#t;
    const q = n.gapWatch;
    if (q.length === 0) return;
    const nodeNow = this.#nodeNow(n, nowMs);
    while (q.length > 0 && q.peekTime() <= nodeNow) {
      const s = q.peekSlot();
      const gen = q.peekGen();
      const gapEndMs = q.peekTime() - this.#o.gapCloseWaitMs;
      q.shift();
      if (t.gen[s] !== gen || !t.has(s, F.GAP_WATCH) || t.has(s, F.DEAD | F.EMITTED)) continue;
      t.flags[s]! = (t.flags[s]! & ~F.GAP_WATCH) | F.CLOSE_IN_GAP;
      this.#registry.counters.closedInGap++;
      // It closed no later than the gap's end: what waits on other nodes waits from there.
      this.#settleSlot(s, gen, gapEndMs, nowMs, false);
    }
  }

  #settleHeld(nowMs: number, force: boolean): void {
    const t = this.#t;
    if (this.#held.length === 0) return;
    const held = this.#held;
    this.#held = [];
    const readyMs = (h: HeldTrace) => h.closedMs + this.#o.settleMs;
    for (const h of held) {
      if (t.gen[h.slot] !== h.gen) continue;
      // Still behind: keep it without walking its chain again (a stalled node may hold many).
      if (!force && this.#nodeNow(this.#nodeList[h.waitOn]!, nowMs) < readyMs(h)) this.#held.push(h);
      else this.#settleSlot(h.slot, h.gen, h.closedMs, nowMs, force);
    }
  }

  #settleSlot(s: number, gen: number, closedMs: number, nowMs: number, force: boolean): void {
    const t = this.#t;
    if (t.has(s, F.EMITTED)) return;
    // A refusal nobody answered yet is not a trace of its own.
    if (t.has(s, F.PHANTOM) && t.peer[s] === NONE) return;
    const hops = this.#builder.chain(s);
    const slots = this.#builder.slots(hops);
    // A socket whose close fell in an agent gap will never show it: it counts as closed.
    if (!slots.every((x) => t.has(x, F.DEAD | F.CLOSE_IN_GAP))) return;
    const waitOn = force ? -1 : this.#awaitedNode(hops, closedMs + this.#o.settleMs, nowMs);
    if (waitOn >= 0) {
      this.#held.push({ slot: s, gen, closedMs, waitOn });
      return;
    }
    this.#emit(hops, slots);
  }

  /**
   * A hop seen from one end only, whose other end's address belongs to
   * another traced node whose clock has not reached `readyMs`: that end may
   * still be in the node's unsent events (its agent stalled), and finishing
   * now would split the connection into two traces.
   */
  #awaitedNode(hops: ChainHop[], readyMs: number, nowMs: number): number {
    const t = this.#t;
    for (const h of hops) {
      if (h.refusal !== NONE || (h.client === NONE) === (h.server === NONE)) continue;
      const present = h.client !== NONE ? h.client : h.server;
      const ip = t.rip[present]!;
      if (ip === 0 || isLoopback(this.#strings.get(ip))) continue;
      const m = this.#registry.localNodes.nodeOf(ip);
      if (m < 0 || m === t.node[present]) continue;
      if (this.#nodeNow(this.#nodeList[m]!, nowMs) < readyMs) return m;
    }
    return -1;
  }

  /** Emit every unemitted chain with a socket first seen before `cutoffMs`. */
  #emitOld(cutoffMs: number): void {
    const t = this.#t;
    for (let s = 0; s < t.capacity; s++) {
      const f = t.flags[s]!;
      if (f === 0 || f & F.EMITTED || t.seenMs[s]! > cutoffMs) continue;
      if (f & F.PHANTOM && t.peer[s] === NONE) continue;
      const hops = this.#builder.chain(s);
      this.#emit(hops, this.#builder.slots(hops));
    }
  }

  #emit(hops: ChainHop[], slots: number[]): void {
    const { trace, info } = this.#builder.build(hops);
    for (const s of slots) this.#t.flags[s]! |= F.EMITTED;
    for (const s of slots) this.#registry.emitted(s);
    this.#traces++;
    this.#hops += hops.length;
    if (trace.outcome === Outcome.OUTCOME_INCOMPLETE) this.#incomplete++;
    this.#o.onTrace(trace, info);
  }
}
