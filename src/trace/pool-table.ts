// Struct-of-arrays rows for the sockets that SOCKET_LINK events concern: the
// downstreams that used a pooled upstream and the upstreams linked to one.
// Most sockets never are (an app's, a listener's), so these columns live here,
// reached through SocketTable.poolRow, instead of costing every slot ~40 bytes.
import { NONE } from "./socket-table.js";

export class PoolTable {
  capacity = 0;
  used = 0;

  // Kernel ns on the socket's node; 0n = never.
  /** Downstream: when it was linked to its pooled upstream (the reuse). */
  reuse = new BigUint64Array(0);
  /** Downstream: the upstream's last link before that reuse (where its idle stretch began). */
  idleSince = new BigUint64Array(0);
  /** Downstream: when its pooled upstream (or the one dialed for it) was next linked to another downstream. */
  useEnd = new BigUint64Array(0);
  /** Upstream: its latest link, either direction. */
  lastLink = new BigUint64Array(0);
  /** Downstream → the pooled upstream slot it used (not the one dialed for it). */
  pool = new Int32Array(0);
  /** Upstream → the downstream slot that used it last. */
  user = new Int32Array(0);
  /** Upstream: downstreams still allocated whose pooled use is this upstream (their traces need its hops). */
  holds = new Uint32Array(0);

  #free = new Int32Array(0);
  #freeTop = 0;

  constructor(initialCapacity: number) {
    this.#grow(initialCapacity);
  }

  alloc(): number {
    if (this.#freeTop === 0) this.#grow(Math.ceil(this.capacity * 1.5));
    this.used++;
    return this.#free[--this.#freeTop]!;
  }

  free(r: number): void {
    this.reuse[r] = this.idleSince[r] = this.useEnd[r] = this.lastLink[r] = 0n;
    this.pool[r] = this.user[r] = NONE;
    this.holds[r] = 0;
    this.#free[this.#freeTop++] = r;
    this.used--;
  }

  #grow(n: number): void {
    const old = this.capacity;
    const u64 = (a: BigUint64Array) => {
      const b = new BigUint64Array(n);
      b.set(a);
      return b;
    };
    const i32 = (a: Int32Array) => {
      const b = new Int32Array(n).fill(NONE, old);
      b.set(a);
      return b;
    };
    this.reuse = u64(this.reuse);
    this.idleSince = u64(this.idleSince);
    this.useEnd = u64(this.useEnd);
    this.lastLink = u64(this.lastLink);
    this.pool = i32(this.pool);
    this.user = i32(this.user);
    const holds = new Uint32Array(n);
    holds.set(this.holds);
    this.holds = holds;
    const free = new Int32Array(n);
    free.set(this.#free.subarray(0, this.#freeTop));
    let top = this.#freeTop;
    for (let i = n - 1; i >= old; i--) free[top++] = i;
    this.#free = free;
    this.#freeTop = top;
    this.capacity = n;
  }
}
