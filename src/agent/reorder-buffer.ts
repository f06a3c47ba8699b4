// Puts events back in kernel-timestamp order. bpftrace reads one perf buffer
// per CPU, so lines arrive as sorted per-CPU runs that interleave. Each event
// is appended to the open run whose tail it follows most closely (patience
// sorting), so the number of runs stays near the number of CPUs, and release
// is a k-way merge of the run heads up to the watermark: O(k) per event with
// k small, whatever the interleaving. Timestamps are exact kernel ns (bigint):
// past 104 days of uptime doubles would tie or swap events 1 ns apart.
import type { KernelNs } from "../model/mod.js";

export interface Timestamped {
  tsNs: KernelNs;
}

interface Run<T> {
  buf: T[];
  head: number;
  tail: KernelNs;
}

export class ReorderBuffer<T extends Timestamped> {
  #runs: Run<T>[] = [];
  #size = 0;
  #maxPushedTs = -1n;
  #releasedTs = -1n;
  #late = 0;
  #reordered = 0;

  get size(): number {
    return this.#size;
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
    const ts = ev.tsNs;
    this.#size++;
    if (ts < this.#releasedTs) this.#late++;
    if (ts >= this.#maxPushedTs) {
      this.#maxPushedTs = ts;
    } else {
      this.#reordered++;
    }
    // The run whose tail is the latest one not after ts keeps runs long and few.
    const runs = this.#runs;
    let best: Run<T> | undefined;
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i] as Run<T>;
      if (r.tail <= ts && (best === undefined || r.tail > best.tail)) best = r;
    }
    if (best === undefined) {
      runs.push({ buf: [ev], head: 0, tail: ts });
    } else {
      best.buf.push(ev);
      best.tail = ts;
    }
  }

  /** Release, in order, every event with tsNs <= watermarkNs (every event with null). */
  drain(watermarkNs: KernelNs | null, out: (ev: T) => void): number {
    const runs = this.#runs;
    let n = 0;
    if (runs.length === 1) {
      // The common case: input already in order.
      n = this.#drainRun(runs[0] as Run<T>, watermarkNs, out);
    } else {
      for (;;) {
        let min: Run<T> | undefined;
        let minTs = 0n;
        for (let i = 0; i < runs.length; i++) {
          const r = runs[i] as Run<T>;
          if (r.head < r.buf.length) {
            const t = (r.buf[r.head] as T).tsNs;
            if (min === undefined || t < minTs) {
              minTs = t;
              min = r;
            }
          }
        }
        if (min === undefined || (watermarkNs !== null && minTs > watermarkNs)) break;
        const ev = min.buf[min.head++] as T;
        if (minTs > this.#releasedTs) this.#releasedTs = minTs;
        out(ev);
        n++;
      }
    }
    this.#size -= n;
    this.#compact();
    return n;
  }

  /** Release everything (on stop). */
  drainAll(out: (ev: T) => void): number {
    return this.drain(null, out);
  }

  #drainRun(r: Run<T>, watermarkNs: KernelNs | null, out: (ev: T) => void): number {
    const buf = r.buf;
    let h = r.head;
    const start = h;
    while (h < buf.length && (watermarkNs === null || (buf[h] as T).tsNs <= watermarkNs)) {
      const ev = buf[h] as T;
      if (ev.tsNs > this.#releasedTs) this.#releasedTs = ev.tsNs;
      out(ev);
      h++;
    }
    r.head = h;
    return h - start;
  }

  #compact(): void {
    const runs = this.#runs;
    let w = 0;
    for (let i = 0; i < runs.length; i++) {
      const r = runs[i] as Run<T>;
      if (r.head === r.buf.length) continue; // exhausted: a later event opens a new run if needed
      if (r.head > 4096 && r.head * 2 > r.buf.length) {
        r.buf = r.buf.slice(r.head);
        r.head = 0;
      }
      runs[w++] = r;
    }
    runs.length = w;
  }
}
