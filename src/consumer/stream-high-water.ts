// The seqs fed to the stitcher per event source (node, boot, agent run). A
// batch the server redelivers (its ack was lost, or the previous run stopped
// before acking it after persisting it, so the replay already fed it) must not
// reach the stitcher twice.
//
// Seqs of one source do not arrive in order across a consumer crash: batches
// the dead consumer held unacked are redelivered only after the ack wait, so
// the next consumer first gets what follows them in the stream (the crash GAP
// the next agent start publishes 2^32 past the dead run's last seq, or the run's
// batches not delivered yet). A single "highest seq" would then call the
// redelivered batches fed and drop events never stitched nor stored; so the
// fed seqs are kept as ranges, and a hole below the highest stays open until
// it is filled.
import type { ConnEvent } from "../model/mod.js";
import type { EventSource } from "../store/mod.js";

/**
 * Holes kept per source. Seqs a source never publishes (implausible events
 * dropped by the sanity check, a shed batch) leave holes that are never
 * filled; past this many the oldest is taken as filled, which is what a
 * high-water mark assumes of every hole.
 */
export const DEFAULT_MAX_SEQ_HOLES = 64;

const keyOf = (s: EventSource): string => `${s.node}\0${s.bootId}\0${s.agentStartUs}`;

/** Disjoint, sorted, inclusive [lo, hi] ranges of fed seqs, flat: [lo0, hi0, lo1, hi1, ...]. */
type Ranges = number[];

export class StreamHighWater {
  readonly #fed = new Map<string, Ranges>();
  readonly #maxHoles: number;

  constructor(maxHoles = DEFAULT_MAX_SEQ_HOLES) {
    this.#maxHoles = maxHoles;
  }

  /** The events of `source` not fed yet (all of them, without copying, in the common case). */
  fresh(source: EventSource, events: ConnEvent[]): ConnEvent[] {
    const r = this.#fed.get(keyOf(source));
    if (!r || events.length === 0) return events;
    // Common case: the batch follows everything fed (events of a batch are in seq order).
    if (events[0]!.seq > r[r.length - 1]!) return events;
    return events.filter((e) => !covered(r, e.seq));
  }

  /**
   * Whether every seq of `source` up to `seq` this consumer knows of was fed:
   * `seq` lies in (or before) the first range of fed seqs, so no hole below it
   * waits for a redelivery. What an agent's heartbeat needs before the
   * stitcher may move its node's time (its events up to then must all be in).
   */
  fedThrough(source: EventSource, seq: number): boolean {
    const r = this.#fed.get(keyOf(source));
    return r !== undefined && seq <= r[1]!;
  }

  /** These events were fed (or will never be: implausible ones dropped, whose seqs must not stay holes). */
  advance(source: EventSource, events: readonly ConnEvent[]): void {
    if (events.length === 0) return;
    const k = keyOf(source);
    let r = this.#fed.get(k);
    if (!r) {
      r = [];
      this.#fed.set(k, r);
    }
    // Runs of consecutive seqs, one insert each (a batch is usually one run).
    let lo = events[0]!.seq;
    let hi = lo;
    for (let i = 1; i < events.length; i++) {
      const s = events[i]!.seq;
      if (s === hi + 1) {
        hi = s;
        continue;
      }
      insert(r, lo, hi);
      lo = hi = s;
    }
    insert(r, lo, hi);
    // Too many holes: fill the oldest (merge the first two ranges).
    while (r.length / 2 - 1 > this.#maxHoles) r.splice(1, 2);
  }
}

/** Whether `seq` lies in one of the ranges. */
function covered(r: Ranges, seq: number): boolean {
  const i = firstEndingAtOrAfter(r, seq);
  return i < r.length && r[i]! <= seq;
}

/** Index (even) of the first range whose hi >= seq, or r.length. */
function firstEndingAtOrAfter(r: Ranges, seq: number): number {
  let lo = 0;
  let hi = r.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (r[2 * mid + 1]! < seq) lo = mid + 1;
    else hi = mid;
  }
  return 2 * lo;
}

/** Add [lo, hi] to the ranges, merging what it touches or adjoins. */
function insert(r: Ranges, lo: number, hi: number): void {
  // First range that could touch: ends at or after lo - 1.
  const i = firstEndingAtOrAfter(r, lo - 1);
  let j = i;
  let newLo = lo;
  let newHi = hi;
  while (j < r.length && r[j]! <= hi + 1) {
    newLo = Math.min(newLo, r[j]!);
    newHi = Math.max(newHi, r[j + 1]!);
    j += 2;
  }
  r.splice(i, j - i, newLo, newHi);
}
