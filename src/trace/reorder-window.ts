// Per-node reordering by kernel timestamp. Batches arrive mostly sorted, so the
// buffer is a sorted array: in-order events are appended, the rare straggler
// is placed by binary search. An event is released once the newest timestamp
// seen is `windowNs` past it; anything older than what was already released
// is "late" and handed to the caller immediately (it may still apply).
// Timestamps are exact kernel ns (bigint): events 1 ns apart past 2^53 ns
// (104 days of uptime) must not tie.
import { nsSpan, type ConnEvent, type KernelNs } from "../model/mod.js";

export interface ReorderSink {
  (ev: ConnEvent, tsNs: KernelNs): void;
}

export class ReorderWindow {
  /** The window as a span to subtract from kernel times. */
  readonly windowNs: bigint;
  /** Timestamp of the last released event. */
  releasedTs: KernelNs = 0n;
  /** Newest timestamp seen. */
  maxTs: KernelNs = 0n;
  reordered = 0;
  late = 0;

  #evs: ConnEvent[] = [];
  #ts: KernelNs[] = [];
  #head = 0;

  /** @param windowNs the window in ns (a duration: a number is fine) */
  constructor(windowNs: number) {
    this.windowNs = nsSpan(windowNs);
  }

  get buffered(): number {
    return this.#evs.length - this.#head;
  }

  /**
   * Add one event. Returns false when it is late (older than already released):
   * the caller applies it on the spot.
   */
  push(ev: ConnEvent, ts: KernelNs): boolean {
    if (ts < this.releasedTs) {
      this.late++;
      return false;
    }
    const n = this.#ts.length;
    if (n === this.#head || ts >= this.#ts[n - 1]!) {
      this.#evs.push(ev);
      this.#ts.push(ts);
    } else {
      // Upper bound keeps events with equal timestamps in arrival order.
      let lo = this.#head;
      let hi = n;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (this.#ts[mid]! <= ts) lo = mid + 1;
        else hi = mid;
      }
      this.#evs.splice(lo, 0, ev);
      this.#ts.splice(lo, 0, ts);
      this.reordered++;
    }
    if (ts > this.maxTs) this.maxTs = ts;
    return true;
  }

  /** Release every event at least `windowNs` older than the newest (all of them with `all`). */
  release(sink: ReorderSink, all = false): void {
    const limit = this.maxTs - this.windowNs;
    const evs = this.#evs;
    const tss = this.#ts;
    let h = this.#head;
    while (h < tss.length && (all || tss[h]! <= limit)) {
      const ts = tss[h]!;
      const ev = evs[h]!;
      // Clear before the callback: a throwing sink must not replay the event.
      evs[h] = undefined as unknown as ConnEvent;
      h++;
      this.#head = h;
      this.releasedTs = ts;
      sink(ev, ts);
    }
    // Compact when the released prefix dominates, so the arrays do not grow forever.
    if (h === tss.length) {
      evs.length = 0;
      tss.length = 0;
      this.#head = 0;
    } else if (h > 4096 && h * 2 > tss.length) {
      this.#evs = evs.slice(h);
      this.#ts = tss.slice(h);
      this.#head = 0;
    }
  }
}
