// Linking a sidecar's downstream connections to the pooled upstream
// connection that served them. A sidecar in HTTP mode keeps upstream
// connections open and reuses one for request after request, each from
// another downstream connection, with no connect() to link them by
// (proxy-link.ts links only at connect time). The probe's SOCKET_LINK events
// say it instead: a proxy thread sent on `sock` data it had just read from
// `linked`, printed when the source of a socket's sends changes. So a pooled
// upstream U used for D1 then D2 shows `U←D1`, `D1←U`, then `U←D2`, `D2←U`.
//
// The rule, on those facts only. A link between a downstream D (accepted on a
// redirect listener) and an upstream U (a client socket) of the same process:
//  - U was dialed for D (its connect-time link): nothing new, TCP mode says
//    this once per direction; only U's last link time and D's answer are kept;
//  - D has no pooled upstream yet: D used U, pooled. U's previous user's use
//    ends now; U is SHARED. The link is AMBIGUOUS when the thread had read
//    several sources since its previous send (link_sources > 1), or when the
//    previous user was still open with its request unanswered (two
//    downstreams active on one connection at once);
//  - D's pooled upstream is U: the other direction of the same use;
//  - D's pooled upstream is another one: request and response disagree, the
//    link is AMBIGUOUS (the first one is kept, never silently replaced).
// A downstream's trace holds its pooled upstream's hops (and those behind it)
// until it is emitted: the upstream's `holds` counts such downstreams, and
// no slot of a held upstream's subtree is freed while it is held.
import type { KernelNs } from "../model/mod.js";
import type { NodeState } from "./node-state.js";
import { PoolTable } from "./pool-table.js";
import type { ProxyLink } from "./proxy-link.js";
import { F, NONE, type SocketTable } from "./socket-table.js";

/** Bounds walks up and down a chain: real ones have at most a few hops; the bound stops cycles from bad data. */
const MAX_DEPTH = 16;

export class PooledLink {
  readonly rows: PoolTable;
  readonly #t: SocketTable;
  readonly #proxy: ProxyLink;
  /** Downstreams linked to a pooled upstream. */
  links = 0;
  /** Links reported AMBIGUOUS. */
  ambiguous = 0;
  /** Live pooled uses (sum of holds): none, and no free needs a walk. */
  #held = 0;

  constructor(table: SocketTable, proxy: ProxyLink, initialCapacity: number) {
    this.#t = table;
    this.#proxy = proxy;
    this.rows = new PoolTable(Math.max(16, initialCapacity >> 4));
  }

  /** The pooled upstream downstream `d` used, or NONE. */
  poolOf(d: number): number {
    const r = this.#t.poolRow[d]!;
    return r === NONE ? NONE : this.rows.pool[r]!;
  }

  /** A column of `s`'s row (0n without one). */
  reuseOf(s: number): KernelNs {
    const r = this.#t.poolRow[s]!;
    return r === NONE ? 0n : this.rows.reuse[r]!;
  }

  idleSinceOf(s: number): KernelNs {
    const r = this.#t.poolRow[s]!;
    return r === NONE ? 0n : this.rows.idleSince[r]!;
  }

  useEndOf(s: number): KernelNs {
    const r = this.#t.poolRow[s]!;
    return r === NONE ? 0n : this.rows.useEnd[r]!;
  }

  /**
   * Thread `pid` sent on `sock` what it had read from `linked` at `ts`, after
   * reading `sources` different sockets. Returns false when the pair is not a
   * sidecar's downstream and upstream of one process.
   */
  link(n: NodeState, sock: number, linked: number, pid: number, sources: number, ts: KernelNs): boolean {
    const t = this.#t;
    const sockDown = this.#proxy.isDownstream(sock);
    if (sockDown === this.#proxy.isDownstream(linked)) return false;
    const d = sockDown ? sock : linked;
    const u = sockDown ? linked : sock;
    if (!t.has(u, F.CLIENT) || t.has(u, F.PHANTOM)) return false;
    if (pid && ((t.pid[d] && t.pid[d] !== pid) || (t.pid[u] && t.pid[u] !== pid))) return false;
    const request = !sockDown;
    const rows = this.rows;
    const ur = this.#row(u);
    if (!request) t.flags[d]! |= F.LINK_ANSWERED;
    if (t.down[u] === d) {
      // Its own upstream: the connect-time link said it already.
      if (rows.user[ur] === NONE) rows.user[ur] = d;
      if (ts > rows.lastLink[ur]!) rows.lastLink[ur] = ts;
      return true;
    }
    const dr = this.#row(d);
    const current = rows.pool[dr]!;
    if (current !== NONE) {
      if (current !== u || sources > 1) this.#ambiguous(d);
      if (current === u && ts > rows.lastLink[ur]!) rows.lastLink[ur] = ts;
      return true;
    }
    rows.pool[dr] = u;
    rows.reuse[dr] = ts;
    rows.holds[ur]!++;
    this.#held++;
    this.links++;
    const last = rows.lastLink[ur]!;
    rows.idleSince[dr] = last > 0n ? last : t.est[u]!;
    // The previous user's use ends here; the downstream U was dialed for is its first user.
    const prev = rows.user[ur] !== NONE ? rows.user[ur]! : t.down[u]!;
    if (prev !== NONE && prev !== d) {
      const pr = this.#row(prev);
      if (!rows.useEnd[pr]) rows.useEnd[pr] = ts;
      // Two downstreams on one connection at once: which one this request came from is a guess.
      if (request && !t.has(prev, F.LINK_ANSWERED | F.DEAD | F.CLOSE_CALLED) && (rows.pool[pr] === u || t.down[u] === prev)) {
        this.#ambiguous(prev);
        this.#ambiguous(d);
      }
    }
    rows.user[ur] = d;
    if (ts > last) rows.lastLink[ur] = ts;
    t.flags[u]! |= F.SHARED;
    if (sources > 1) this.#ambiguous(d);
    // Served: it waits for no connect of its own any more.
    if (t.up[d] === NONE) this.#proxy.forget(n, d);
    return true;
  }

  /**
   * May slot `s` be freed now? Not while a downstream that used a pooled
   * upstream above it (on its chain, through connect-time links) is allocated.
   */
  held(s: number): boolean {
    if (this.#held === 0) return false;
    const t = this.#t;
    let c = t.has(s, F.CLIENT) ? s : t.peer[s]!;
    for (let i = 0; i < MAX_DEPTH && c !== NONE; i++) {
      const r = t.poolRow[c]!;
      if (r !== NONE && this.rows.holds[r]! > 0) return true;
      const d = t.down[c]!;
      if (d === NONE) return false;
      c = t.peer[d]!;
    }
    return false;
  }

  /**
   * Slot `s` is being freed: drop its row, its hold on a pooled upstream, and
   * its place as an upstream's user. Returns the upstream whose last hold this
   * was (its subtree may be freed now), else NONE.
   */
  forget(s: number): number {
    const t = this.#t;
    const r = t.poolRow[s]!;
    if (r === NONE) return NONE;
    const rows = this.rows;
    let released = NONE;
    const u = rows.pool[r]!;
    if (u !== NONE) {
      const ur = t.poolRow[u]!;
      if (ur !== NONE) {
        if (rows.user[ur] === s) rows.user[ur] = NONE;
        if (rows.holds[ur]! > 0) {
          rows.holds[ur]!--;
          this.#held--;
          if (rows.holds[ur] === 0) released = u;
        }
      }
    }
    // As an own upstream's user.
    for (let a = t.up[s]!, i = 0; a !== NONE && i < MAX_DEPTH; a = t.nextAttempt[a]!, i++) {
      const ar = t.poolRow[a]!;
      if (ar !== NONE && rows.user[ar] === s) rows.user[ar] = NONE;
    }
    // As an upstream: its holds are 0 (it is freed only then); its users keep no reference to it but `pool`, gone with them.
    rows.free(r);
    t.poolRow[s] = NONE;
    return released;
  }

  /** Every slot of the hops on and behind upstream `u` (connect-time links only: a pooled use there holds its own). */
  subtree(u: number): number[] {
    const t = this.#t;
    const out: number[] = [];
    const todo = [u];
    while (todo.length > 0 && out.length < 4 * MAX_DEPTH) {
      const c = todo.pop()!;
      out.push(c);
      const s = t.peer[c]!;
      if (t.aux[c] !== NONE) out.push(t.aux[c]!);
      if (s === NONE || t.peer[s] !== c) continue;
      out.push(s);
      for (let a = t.up[s]!, i = 0; a !== NONE && i < MAX_DEPTH; a = t.nextAttempt[a]!, i++) todo.push(a);
    }
    return out;
  }

  #ambiguous(d: number): void {
    const t = this.#t;
    if (t.has(d, F.LINK_AMBIGUOUS)) return;
    t.flags[d]! |= F.LINK_AMBIGUOUS;
    this.ambiguous++;
  }

  #row(s: number): number {
    const t = this.#t;
    let r = t.poolRow[s]!;
    if (r === NONE) {
      r = this.rows.alloc();
      t.poolRow[s] = r;
    }
    return r;
  }
}
