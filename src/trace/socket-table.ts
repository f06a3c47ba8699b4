// Struct-of-arrays storage for tracked sockets. A socket is a slot index into
// typed columns: no object per socket, no boxed doubles, so a live socket costs
// about 150 bytes of columns instead of ~500 bytes as a class instance.
// Kernel times are u64 columns (BigUint64Array): exact for any uptime, where
// doubles round past 2^53 ns (104 days) and two sockets' births would tie.

/** Socket flags (bits of the `flags` column). */
export const F = {
  CLIENT: 1 << 0, // born CLOSE→SYN_SENT
  SERVER: 1 << 1, // born LISTEN→SYN_RECV (or a phantom: a RST no socket sent)
  DEAD: 1 << 2, // reached CLOSE
  GAP: 1 << 3, // an agent gap overlapped its life
  MIDSTREAM: 1 << 4, // first seen after its birth (agent started late or events lost)
  MISSING_CLOSE: 1 << 5, // its address was reborn without a CLOSE: events were lost
  PHANTOM: 1 << 6, // not a socket: a RST_SENT with reason NO_SOCKET (the kernel refused)
  UNMAPPED: 1 << 7, // no longer addressable by (node, sock): linger expired or address reused
  EMITTED: 1 << 8, // its trace was emitted
  POOLED: 1 << 9, // proxy link ambiguous: several candidates
  INDEXED: 1 << 10, // registered in the endpoint index
  PENDING: 1 << 11, // a sidecar downstream in its process's pending list: awaiting its upstream connect, or a retry of a failed one
  QUEUED: 1 << 12, // in the finalize queue
  CLOSE_CALLED: 1 << 13, // its process called close() or shutdown() on it
  EXIT_CLOSED: 1 << 14, // it sent a FIN or RST before any close()/shutdown(): the kernel closed it for an exiting process
  SHARED: 1 << 15, // an upstream a SOCKET_LINK showed serving a downstream other than the one it was dialed for (pooled)
  LINK_AMBIGUOUS: 1 << 16, // a downstream whose link to a pooled upstream is a guess (several sources, or links that disagree)
  LINK_ANSWERED: 1 << 17, // a downstream that a response link (sends on it from its upstream) showed answered
  GAP_INSIDE: 1 << 18, // its birth or its close fell inside an agent gap's span: how it opened or ended is unknown
  GAP_WATCH: 1 << 19, // alive when an agent gap with a span ended, no event of it since: its close may be in the gap
  CLOSE_IN_GAP: 1 << 20, // watched past gapCloseWaitMs without an event: taken as closed inside the gap (close unknown)
} as const;

const NONE = -1;

export class SocketTable {
  capacity = 0;
  /** Allocated slots (alive or lingering). */
  used = 0;

  // Kernel timestamps (ns since boot, the node's clock); 0n = never.
  birth = new BigUint64Array(0);
  est = new BigUint64Array(0);
  finSent = new BigUint64Array(0);
  finRecv = new BigUint64Array(0);
  rstSent = new BigUint64Array(0);
  rstRecv = new BigUint64Array(0);
  death = new BigUint64Array(0);
  /** accept or SO_ORIGINAL_DST time of a sidecar downstream (proxy linking window). */
  mark = new BigUint64Array(0);
  /** Wall ms when the stitcher first saw the socket (max-age). */
  seenMs = new Float64Array(0);

  netns = new Uint32Array(0);
  uid = new Uint32Array(0);
  flags = new Uint32Array(0);
  pid = new Uint32Array(0);
  tid = new Uint32Array(0);
  /** Incremented on free, so queued references to a reused slot are recognised as stale. */
  gen = new Uint32Array(0);

  /** The other end of the connection (or a phantom refusal). */
  peer = new Int32Array(0);
  /** A phantom RST (NO_SOCKET) aimed at this already-paired client. */
  aux = new Int32Array(0);
  /** Sidecar downstream → the upstream socket it dialed (its first attempt; later ones follow nextAttempt). */
  up = new Int32Array(0);
  /** Upstream → the sidecar downstream it serves (every connect attempt for it). */
  down = new Int32Array(0);
  /** Upstream attempt → the proxy's next connect attempt for the same downstream, made after this one failed. */
  nextAttempt = new Int32Array(0);
  /** Next slot with the same endpoint key (endpoint index chain). */
  next = new Int32Array(0);
  connRet = new Int32Array(0);
  /**
   * Row in the PoolTable (pool-table.ts) for a socket that took part in a
   * SOCKET_LINK (a downstream using a pooled upstream, an upstream linked):
   * few sockets do, so their columns live there, not in every slot.
   */
  poolRow = new Int32Array(0);
  // Interned strings.
  lip = new Int32Array(0);
  rip = new Int32Array(0);
  pod = new Int32Array(0);
  comm = new Int32Array(0);
  odstIp = new Int32Array(0);
  connIp = new Int32Array(0);

  node = new Uint16Array(0);
  lport = new Uint16Array(0);
  rport = new Uint16Array(0);
  odstPort = new Uint16Array(0);
  connPort = new Uint16Array(0);
  retrans = new Uint16Array(0);

  role = new Uint8Array(0);
  leg = new Uint8Array(0);
  state = new Uint8Array(0);
  rstReason = new Uint8Array(0);
  /** The state a dead socket left for CLOSE. */
  closeFrom = new Uint8Array(0);

  /** The kernel's sock address as two uint32 halves and its digit count (0: kept as text by the SockIndex). */
  sockHi = new Uint32Array(0);
  sockLo = new Uint32Array(0);
  sockLen = new Uint8Array(0);

  #free = new Int32Array(0);
  #freeTop = 0;

  constructor(initialCapacity: number) {
    this.#grow(initialCapacity);
  }

  alloc(): number {
    if (this.#freeTop === 0) this.#grow(Math.ceil(this.capacity * 1.5));
    const s = this.#free[--this.#freeTop]!;
    this.used++;
    return s;
  }

  /** Reset every column of `s` and return it to the free list. */
  free(s: number): void {
    this.birth[s] = this.est[s] = this.finSent[s] = this.finRecv[s] = 0n;
    this.rstSent[s] = this.rstRecv[s] = this.death[s] = this.mark[s] = 0n;
    this.seenMs[s] = 0;
    this.netns[s] = this.uid[s] = this.flags[s] = this.pid[s] = this.tid[s] = 0;
    this.gen[s] = (this.gen[s]! + 1) >>> 0;
    this.peer[s] = this.aux[s] = this.up[s] = this.down[s] = this.nextAttempt[s] = this.next[s] = this.poolRow[s] = NONE;
    this.connRet[s] = this.lip[s] = this.rip[s] = this.pod[s] = this.comm[s] = 0;
    this.odstIp[s] = this.connIp[s] = 0;
    this.node[s] = this.lport[s] = this.rport[s] = this.odstPort[s] = this.connPort[s] = this.retrans[s] = 0;
    this.role[s] = this.leg[s] = this.state[s] = this.rstReason[s] = this.closeFrom[s] = 0;
    this.sockHi[s] = this.sockLo[s] = this.sockLen[s] = 0;
    this.#free[this.#freeTop++] = s;
    this.used--;
  }

  has(s: number, bits: number): boolean {
    return (this.flags[s]! & bits) !== 0;
  }

  #grow(n: number): void {
    const old = this.capacity;
    const f64 = (a: Float64Array) => copy(new Float64Array(n), a);
    const u64 = (a: BigUint64Array) => {
      const b = new BigUint64Array(n);
      b.set(a);
      return b;
    };
    const u32 = (a: Uint32Array) => copy(new Uint32Array(n), a);
    const i32 = (a: Int32Array, fill: number) => copy(new Int32Array(n).fill(fill, old), a);
    const u16 = (a: Uint16Array) => copy(new Uint16Array(n), a);
    const u8 = (a: Uint8Array) => copy(new Uint8Array(n), a);
    this.birth = u64(this.birth);
    this.est = u64(this.est);
    this.finSent = u64(this.finSent);
    this.finRecv = u64(this.finRecv);
    this.rstSent = u64(this.rstSent);
    this.rstRecv = u64(this.rstRecv);
    this.death = u64(this.death);
    this.mark = u64(this.mark);
    this.seenMs = f64(this.seenMs);
    this.netns = u32(this.netns);
    this.uid = u32(this.uid);
    this.flags = u32(this.flags);
    this.pid = u32(this.pid);
    this.tid = u32(this.tid);
    this.gen = u32(this.gen);
    this.peer = i32(this.peer, NONE);
    this.aux = i32(this.aux, NONE);
    this.up = i32(this.up, NONE);
    this.down = i32(this.down, NONE);
    this.nextAttempt = i32(this.nextAttempt, NONE);
    this.next = i32(this.next, NONE);
    this.connRet = i32(this.connRet, 0);
    this.poolRow = i32(this.poolRow, NONE);
    this.lip = i32(this.lip, 0);
    this.rip = i32(this.rip, 0);
    this.pod = i32(this.pod, 0);
    this.comm = i32(this.comm, 0);
    this.odstIp = i32(this.odstIp, 0);
    this.connIp = i32(this.connIp, 0);
    this.node = u16(this.node);
    this.lport = u16(this.lport);
    this.rport = u16(this.rport);
    this.odstPort = u16(this.odstPort);
    this.connPort = u16(this.connPort);
    this.retrans = u16(this.retrans);
    this.role = u8(this.role);
    this.leg = u8(this.leg);
    this.state = u8(this.state);
    this.rstReason = u8(this.rstReason);
    this.closeFrom = u8(this.closeFrom);
    this.sockHi = u32(this.sockHi);
    this.sockLo = u32(this.sockLo);
    this.sockLen = u8(this.sockLen);
    // Free list: lowest slots first, so a small table stays dense.
    const free = new Int32Array(n);
    free.set(this.#free.subarray(0, this.#freeTop));
    let top = this.#freeTop;
    for (let i = n - 1; i >= old; i--) free[top++] = i;
    this.#free = free;
    this.#freeTop = top;
    this.capacity = n;
  }
}

function copy<T extends { set(a: ArrayLike<number>): void }>(dst: T, src: ArrayLike<number>): T {
  dst.set(src);
  return dst;
}

export { NONE };
