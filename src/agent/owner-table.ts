// Which process a socket belongs to. TCP tracepoints often fire in softirq,
// where pid/comm name whoever happened to be on the CPU; only syscalls
// (connect, accept, close, shutdown, getsockopt) run in the owner's context.
// Those are noted here as they arrive, keyed by socket, and looked up when an
// event of that socket is released in order, so even the events that precede
// accept() in time (the child's SYN_RECV/ESTABLISHED) get the right owner.
import type { KernelNs, Process } from "../model/mod.js";

interface OwnerRecord {
  tsNs: KernelNs;
  process: Process;
}

export class OwnerTable {
  readonly #bySock = new Map<string, OwnerRecord[]>();

  get size(): number {
    return this.#bySock.size;
  }

  /** A process-context event on sock at tsNs (records stay sorted by ts). */
  note(sock: string, tsNs: KernelNs, process: Process): void {
    if (!sock) return;
    const list = this.#bySock.get(sock);
    const rec = { tsNs, process };
    if (!list) {
      this.#bySock.set(sock, [rec]);
      return;
    }
    let i = list.length;
    while (i > 0 && (list[i - 1] as OwnerRecord).tsNs > tsNs) i--;
    list.splice(i, 0, rec);
  }

  /**
   * The owner of the socket generation born at birthTsNs: the first process
   * that touched it after its birth (connect for a dialer, accept for a
   * server). A struct sock address reused later has a later birth, so its
   * records are never taken for an earlier socket. No upper bound at death:
   * a refused connect() returns after its socket already reached CLOSE.
   */
  lookup(sock: string, birthTsNs: KernelNs): Process | undefined {
    const list = this.#bySock.get(sock);
    if (!list) return undefined;
    // Binary search: a busy slab reuses the same addresses many times a second.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((list[mid] as OwnerRecord).tsNs < birthTsNs) lo = mid + 1;
      else hi = mid;
    }
    return list[lo]?.process;
  }

  /** Forget records older than beforeTsNs, keeping the newest record of each socket still alive. */
  prune(beforeTsNs: KernelNs, isAlive: (sock: string) => boolean): number {
    let dropped = 0;
    for (const [sock, list] of this.#bySock) {
      const keepLast = isAlive(sock);
      let n = 0;
      while (n < list.length && (list[n] as OwnerRecord).tsNs < beforeTsNs) n++;
      if (keepLast && n === list.length) n--;
      if (n > 0) {
        list.splice(0, n);
        dropped += n;
      }
      if (list.length === 0) this.#bySock.delete(sock);
    }
    return dropped;
  }
}
