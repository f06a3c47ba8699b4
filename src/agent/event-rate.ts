// The node's recent kernel-event rate, on the kernel clock: what a gap that
// nobody could count (bpftrace dead) most likely hid is this rate times the
// gap's span. Counted in whole-second buckets of event time, so a reader that
// fell behind (events arriving late, in a burst) still measures the rate at
// which the kernel made them, not the rate at which they were read.
import type { KernelNs } from "../model/mod.js";

/** Seconds of history the rate is taken over: long enough to smooth a burst, short enough to follow a change of load. */
export const DEFAULT_EVENT_RATE_SECONDS = 10;

const NS_PER_S = 1_000_000_000n;

export class EventRate {
  readonly #seconds: number;
  /** Events per second of kernel time, ring-indexed by the second. */
  readonly #counts: Float64Array;
  /** Which second each slot holds (-1: none). */
  readonly #slotSecond: Float64Array;
  #firstSecond = -1;
  // The second the last event fell in, to count most events with two comparisons (no bigint division on the hot path).
  #curStartNs: KernelNs = -1n;
  #curEndNs: KernelNs = -1n;
  #curSlot = 0;

  constructor(seconds = DEFAULT_EVENT_RATE_SECONDS) {
    if (!Number.isInteger(seconds) || seconds < 1) throw new RangeError(`EventRate: seconds must be an integer >= 1, got ${seconds}`);
    this.#seconds = seconds;
    this.#counts = new Float64Array(seconds);
    this.#slotSecond = new Float64Array(seconds).fill(-1);
  }

  /** One event at kernel time `tsNs`. */
  note(tsNs: KernelNs): void {
    if (tsNs >= this.#curStartNs && tsNs < this.#curEndNs) {
      this.#counts[this.#curSlot]!++;
      return;
    }
    const sec = Number(tsNs / NS_PER_S);
    const i = sec % this.#seconds;
    if (this.#slotSecond[i] !== sec) {
      // A slot holds an older second (or a later one, for an event far out of order: then it is dropped).
      if (this.#slotSecond[i]! > sec) return;
      this.#slotSecond[i] = sec;
      this.#counts[i] = 0;
    }
    this.#counts[i]!++;
    this.#curSlot = i;
    this.#curStartNs = BigInt(sec) * NS_PER_S;
    this.#curEndNs = this.#curStartNs + NS_PER_S;
    if (this.#firstSecond < 0 || sec < this.#firstSecond) this.#firstSecond = sec;
  }

  /**
   * Events per second over the seconds before `atNs` (the last event's time):
   * the events of those seconds over the time they cover, from the first
   * event seen when that is more recent. 0 when nothing was seen.
   */
  perSecond(atNs: KernelNs): number {
    if (this.#firstSecond < 0) return 0;
    const now = Number(atNs / NS_PER_S);
    const from = now - this.#seconds + 1;
    let n = 0;
    for (let i = 0; i < this.#seconds; i++) {
      const s = this.#slotSecond[i]!;
      if (s >= from && s <= now) n += this.#counts[i]!;
    }
    // The current second is partly over: count the time actually covered.
    const startNs = BigInt(Math.max(from, this.#firstSecond)) * NS_PER_S;
    const coveredS = Number(atNs - startNs) / 1e9;
    return coveredS > 0 ? n / coveredS : 0;
  }

  /** What a gap from `startNs` to `endNs` most likely hid at the rate before it; null without a rate to go by. */
  estimate(startNs: KernelNs, endNs: KernelNs): number | null {
    const rate = this.perSecond(startNs);
    if (rate <= 0 || endNs <= startNs) return null;
    return Math.round((rate * Number(endNs - startNs)) / 1e9);
  }
}
