// Linking the two legs through a sidecar: the downstream socket it accepted on
// a redirect listener and the upstream socket it then dialed towards the
// original destination it had just recovered, from the same process (the
// accepting thread preferred). When several downstreams could own one
// connect (pooling, or one event loop serving many), nothing is guessed: both
// sides are flagged POOLED and stay unlinked.
import { SidecarLeg, type Process } from "../model/mod.js";
import type { NodeState } from "./node-state.js";
import type { ResolvedOptions } from "./options.js";
import { F, NONE, type SocketTable } from "./socket-table.js";

export class ProxyLink {
  readonly #t: SocketTable;
  readonly #o: ResolvedOptions;
  /** Connects that found several candidates. */
  ambiguous = 0;
  linked = 0;

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
  offer(n: NodeState, d: number, ts: number): void {
    const t = this.#t;
    t.mark[d] = ts;
    if (t.has(d, F.PENDING) || t.up[d] !== NONE || t.pid[d] === 0) return;
    t.flags[d]! |= F.PENDING;
    const list = n.pending.get(t.pid[d]!);
    if (list) list.push(d);
    else n.pending.set(t.pid[d]!, [d]);
  }

  /** Upstream `u` was dialed by `proc` at `ts`: find the downstream it serves. */
  connect(n: NodeState, u: number, proc: Process, ts: number): void {
    const t = this.#t;
    const list = n.pending.get(proc.pid ?? 0);
    if (!list || t.down[u] !== NONE) return;
    const ip = t.connPort[u] ? t.connIp[u]! : t.rip[u]!;
    const port = t.connPort[u] ? t.connPort[u]! : t.rport[u]!;
    let sameTid = NONE;
    let sameTidCount = 0;
    let other = NONE;
    let otherCount = 0;
    let w = 0;
    for (let r = 0; r < list.length; r++) {
      const d = list[r]!;
      // Drop entries that were linked, freed or aged out of the window.
      if (!t.has(d, F.PENDING) || t.up[d] !== NONE || ts - t.mark[d]! > this.#o.proxyWindowNs) {
        t.flags[d]! &= ~F.PENDING;
        continue;
      }
      list[w++] = d;
      if (t.mark[d]! > ts) continue;
      const [dip, dport] = this.#destination(d);
      if (dip !== ip || dport !== port) continue;
      if (t.tid[d] === (proc.tid ?? 0)) {
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
      t.up[pick] = u;
      t.down[u] = pick;
      t.flags[pick]! &= ~F.PENDING;
      list.splice(list.indexOf(pick), 1);
      this.linked++;
    } else if (sameTidCount + otherCount > 1) {
      this.ambiguous++;
      t.flags[u]! |= F.POOLED;
      for (const d of list) {
        const [dip, dport] = this.#destination(d);
        if (dip === ip && dport === port) t.flags[d]! |= F.POOLED;
      }
    }
    if (list.length === 0) n.pending.delete(proc.pid ?? 0);
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

  /** Where the downstream's client meant to go: SO_ORIGINAL_DST, else the paired client's remote. */
  #destination(d: number): [number, number] {
    const t = this.#t;
    if (t.odstPort[d]) return [t.odstIp[d]!, t.odstPort[d]!];
    const c = t.peer[d]!;
    if (c !== NONE && !t.has(c, F.PHANTOM)) return [t.rip[c]!, t.rport[c]!];
    return [-1, -1];
  }
}
