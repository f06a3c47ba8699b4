// Puts events back in kernel-timestamp order. bpftrace reads one perf buffer
// per CPU, so lines arrive in per-CPU runs that interleave out of order by up
// to one read round. Input is nearly sorted, so insertion from the tail costs
// O(1) per event in the common case; events are released once they are older
// than the watermark the agent passes in (newest ts seen minus the window).

export interface Timestamped {
  tsNs: number;
}

export class ReorderBuffer<T extends Timestamped> {
  #buf: T[] = [];
  #head = 0;
  #releasedTs = -1;
  #late = 0;
  #reordered = 0;

  get size(): number {
    return this.#buf.length - this.#head;
  }

  /** Events that arrived after later events had already been released (emitted out of order). */
  get late(): number {
    return this.#late;
  }

  /** Events that arrived out of order but were put back in place. */
  get reordered(): number {
    return this.#reordered;
  }

  push(ev: T): void {
    const buf = this.#buf;
    const ts = ev.tsNs;
    if (ts < this.#releasedTs) this.#late++;
    let i = buf.length;
    buf.push(ev);
    if (i > this.#head && (buf[i - 1] as T).tsNs > ts) {
      this.#reordered++;
      while (i > this.#head && (buf[i - 1] as T).tsNs > ts) {
        buf[i] = buf[i - 1] as T;
        i--;
      }
      buf[i] = ev;
    }
  }

  /** Release, in order, every event with tsNs <= watermarkNs. */
  drain(watermarkNs: number, out: (ev: T) => void): number {
    const buf = this.#buf;
    let h = this.#head;
    const start = h;
    while (h < buf.length && (buf[h] as T).tsNs <= watermarkNs) {
      const ev = buf[h] as T;
      if (ev.tsNs > this.#releasedTs) this.#releasedTs = ev.tsNs;
      out(ev);
      h++;
    }
    this.#head = h;
    this.#compact();
    return h - start;
  }

  /** Release everything (on stop). */
  drainAll(out: (ev: T) => void): number {
    return this.drain(Number.POSITIVE_INFINITY, out);
  }

  #compact(): void {
    if (this.#head === this.#buf.length) {
      this.#buf = [];
      this.#head = 0;
    } else if (this.#head > 4096 && this.#head * 2 > this.#buf.length) {
      this.#buf = this.#buf.slice(this.#head);
      this.#head = 0;
    }
  }
}
