// Linking the two legs through a sidecar: the downstream socket it accepted on
// a redirect listener and the upstream socket it then dialed towards the
// original destination it had just recovered, from the same process (the
// accepting thread preferred). Proxies retry a failed upstream connect
// (HAProxy `retries`, Envoy connect-failure retries): every attempt made for
// one downstream is linked to it, in order, so one request is one trace.
// When several downstreams could own one connect (pooling, or one event loop
// serving many), nothing is guessed: both sides are flagged POOLED and stay
// unlinked.
//
// The rule, on kernel facts only. A connect() by process P, thread T, to
// destination X at time ts can serve a downstream D of P whose original
// destination is X when D is
//  - fresh: not linked yet, accepted (or its SO_ORIGINAL_DST read) at most
//    proxyWindow before ts; D's thread is the one that accepted it;
//  - retrying: linked, its last attempt closed without ever connecting
//    (refused, reset during the handshake, given up in SYN_SENT) at most
//    retryWindow before ts, and D itself still open and not given up by its
//    proxy (no close()/shutdown() called, no FIN or RST sent). D's thread is
//    the one that dialed that last attempt.
// The only candidate on thread T wins; with none on T, the only candidate in
// P wins (a proxy that hands work between threads); otherwise it is
// ambiguous. An attempt that connected ends D's retries: a new connection
// after that is a new request's, not a retry.
import { SidecarLeg, nsBetween, type KernelNs, type Process } from "../model/mod.js";
import type { NodeState } from "./node-state.js";
import type { ResolvedOptions } from "./options.js";
import { F, NONE, type SocketTable } from "./socket-table.js";

/** Bounds walks along a downstream's attempts: real proxies retry a handful of times. */
const MAX_ATTEMPTS = 64;

/** Where a pending downstream stands for a connect at a given time. */
const Standing = {
  /** Out of the pending list: linked for good, given up, or too old. */
  DROP: 0,
  /** Stays pending but cannot own this connect (its accept is later, its last attempt still connecting). */
  WAIT: 1,
  CANDIDATE: 2,
} as const;
type Standing = (typeof Standing)[keyof typeof Standing];

/** The upstream attempts linked to downstream `d`, first to last. */
export function attemptsOf(t: SocketTable, d: number): number[] {
  const out: number[] = [];
  for (let a = t.up[d]!; a !== NONE && out.length < MAX_ATTEMPTS; a = t.nextAttempt[a]!) out.push(a);
  return out;
}

export class ProxyLink {
  readonly #t: SocketTable;
  readonly #o: ResolvedOptions;
  /** Connects that found several candidates. */
  ambiguous = 0;
  /** Downstreams linked to their first upstream attempt. */
  linked = 0;
  /** Upstream connects linked as a retry of a failed attempt. */
  retries = 0;

  constructor(table: SocketTable, opts: ResolvedOptions) {
    this.#t = table;
    this.#o = opts;
  }

  /** Is `s` a sidecar's downstream (accepted on a redirect listener)? */
  isDownstream(s: number): boolean {
    const t = this.#t;
    const leg = t.leg[s]!;
    if (leg === SidecarLeg.SIDECAR_LEG_OUTBOUND_LISTENER || leg === SidecarLeg.SIDECAR_LEG_INBOUND_LISTENER) return true;
    const p = t.lport[s]!;
    return t.has(s, F.SERVER) && (this.#o.outboundRedirectPorts.has(p) || this.#o.inboundRedirectPorts.has(p));
  }

  /** A downstream was accepted or its original destination recovered at `ts`. */
  offer(n: NodeState, d: number, ts: KernelNs): void {
    const t = this.#t;
    t.mark[d] = ts;
    if (t.has(d, F.PENDING) || t.up[d] !== NONE || t.pid[d] === 0) return;
    t.flags[d]! |= F.PENDING;
    const list = n.pending.get(t.pid[d]!);
    if (list) list.push(d);
    else n.pending.set(t.pid[d]!, [d]);
  }

  /** Upstream `u` was dialed by `proc` at `ts`: find the downstream it serves. */
  connect(n: NodeState, u: number, proc: Process, ts: KernelNs): void {
    const t = this.#t;
    const pid = proc.pid ?? 0;
    const tid = proc.tid ?? 0;
    const list = n.pending.get(pid);
    // A socket's later connect() calls (the one that reports the result) change nothing.
    if (!list || t.down[u] !== NONE || t.has(u, F.POOLED)) return;
    const ip = t.connPort[u] ? t.connIp[u]! : t.rip[u]!;
    const port = t.connPort[u] ? t.connPort[u]! : t.rport[u]!;
    let sameTid = NONE;
    let sameTidCount = 0;
    let other = NONE;
    let otherCount = 0;
    let w = 0;
    for (let r = 0; r < list.length; r++) {
      const d = list[r]!;
      const standing = this.#standing(d, ts);
      if (standing === Standing.DROP) {
        t.flags[d]! &= ~F.PENDING;
        continue;
      }
      list[w++] = d;
      if (standing !== Standing.CANDIDATE || !this.#sameDestination(d, ip, port)) continue;
      if (this.#thread(d) === tid) {
        sameTid = d;
        sameTidCount++;
      } else {
        other = d;
        otherCount++;
      }
    }
    list.length = w;
    const pick = sameTidCount === 1 ? sameTid : sameTidCount === 0 && otherCount === 1 ? other : NONE;
    if (pick !== NONE) {
      this.#link(pick, u);
    } else if (sameTidCount + otherCount > 1) {
      this.ambiguous++;
      t.flags[u]! |= F.POOLED;
      for (const d of list) {
        if (this.#standing(d, ts) === Standing.CANDIDATE && this.#sameDestination(d, ip, port)) t.flags[d]! |= F.POOLED;
      }
    }
    if (list.length === 0) n.pending.delete(pid);
  }

  /** Forget a downstream that is being freed. */
  forget(n: NodeState, d: number): void {
    const t = this.#t;
    if (!t.has(d, F.PENDING)) return;
    t.flags[d]! &= ~F.PENDING;
    const list = n.pending.get(t.pid[d]!);
    if (!list) return;
    const i = list.indexOf(d);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) n.pending.delete(t.pid[d]!);
  }

  /** Slot `s` is being freed: take it out of every proxy link, as an upstream attempt and as a downstream. */
  unlink(s: number): void {
    const t = this.#t;
    const d = t.down[s]!;
    if (d !== NONE) {
      if (t.up[d] === s) t.up[d] = t.nextAttempt[s]!;
      else {
        let a = t.up[d]!;
        for (let i = 0; a !== NONE && i < MAX_ATTEMPTS; i++, a = t.nextAttempt[a]!) {
          if (t.nextAttempt[a] === s) {
            t.nextAttempt[a] = t.nextAttempt[s]!;
            break;
          }
        }
      }
    }
    let a = t.up[s]!;
    for (let i = 0; a !== NONE && t.down[a] === s && i < MAX_ATTEMPTS; i++) {
      const next = t.nextAttempt[a]!;
      t.down[a] = NONE;
      t.nextAttempt[a] = NONE;
      a = next;
    }
    t.up[s] = NONE;
  }

  #standing(d: number, ts: KernelNs): Standing {
    const t = this.#t;
    if (!t.has(d, F.PENDING)) return Standing.DROP;
    if (t.up[d] === NONE) {
      if (nsBetween(t.mark[d]!, ts) > this.#o.proxyWindowNs) return Standing.DROP;
      return t.mark[d]! > ts ? Standing.WAIT : Standing.CANDIDATE;
    }
    // Linked: only a retry can still come, while the proxy keeps the downstream.
    if (t.has(d, F.DEAD | F.EMITTED | F.CLOSE_CALLED) || t.finSent[d] || t.rstSent[d]) return Standing.DROP;
    const last = this.#lastAttempt(d);
    if (t.est[last]) return Standing.DROP;
    if (!t.has(last, F.DEAD) || t.death[last]! > ts) return Standing.WAIT;
    return nsBetween(t.death[last]!, ts) > this.#o.retryWindowNs ? Standing.DROP : Standing.CANDIDATE;
  }

  /** The thread a connect serving `d` is expected on: the one that accepted it, or that dialed its last attempt. */
  #thread(d: number): number {
    const t = this.#t;
    return t.up[d] === NONE ? t.tid[d]! : t.tid[this.#lastAttempt(d)]!;
  }

  #link(d: number, u: number): void {
    const t = this.#t;
    t.down[u] = d;
    if (t.up[d] === NONE) {
      t.up[d] = u;
      this.linked++;
    } else {
      t.nextAttempt[this.#lastAttempt(d)] = u;
      this.retries++;
    }
  }

  #lastAttempt(d: number): number {
    const t = this.#t;
    let a = t.up[d]!;
    for (let i = 0; i < MAX_ATTEMPTS && t.nextAttempt[a] !== NONE; i++) a = t.nextAttempt[a]!;
    return a;
  }

  #sameDestination(d: number, ip: number, port: number): boolean {
    const [dip, dport] = this.#destination(d);
    return dip === ip && dport === port;
  }

  /** Where the downstream's client meant to go: SO_ORIGINAL_DST, else the paired client's remote. */
  #destination(d: number): [number, number] {
    const t = this.#t;
    if (t.odstPort[d]) return [t.odstIp[d]!, t.odstPort[d]!];
    const c = t.peer[d]!;
    if (c !== NONE && !t.has(c, F.PHANTOM)) return [t.rip[c]!, t.rport[c]!];
    return [-1, -1];
  }
}
