// The publisher's bounded FIFO of encoded batches, counted in events. Full,
// it sheds its oldest batches: while NATS is away the newest events are the
// ones worth keeping, and a batch is the unit that can still be published as
// it was encoded (its msg id and seqs fixed). Every event shed is reported.
import { InvalidArgumentError } from "../errors/mod.js";
import type { KernelNs } from "../model/mod.js";
import type { EncodedBatch } from "./batch-cutter.js";

/** What was pushed out of the queue by newer events. */
export interface Displaced {
  count: number;
  firstTsNs: KernelNs;
  lastTsNs: KernelNs;
}

export class BatchQueue {
  /** Events held at most; one batch larger than this is still held, alone. */
  readonly capacity: number;
  #batches: (EncodedBatch | undefined)[] = [];
  #head = 0;
  #events = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw InvalidArgumentError.format("capacity", `must be an integer >= 1, got ${capacity}`);
    this.capacity = capacity;
  }

  /** Events queued. */
  get size(): number {
    return this.#events;
  }

  /** Batches queued. */
  get length(): number {
    return this.#batches.length - this.#head;
  }

  /** Append a batch, shedding the oldest ones it does not fit beside into `displaced` (count 0 if none). */
  push(batch: EncodedBatch, displaced: Displaced): void {
    while (this.#events + batch.count > this.capacity && this.length > 0) add(displaced, this.shift()!);
    this.#batches.push(batch);
    this.#events += batch.count;
  }

  /** Remove and return the oldest batch. */
  shift(): EncodedBatch | undefined {
    if (this.#head === this.#batches.length) return undefined;
    const batch = this.#batches[this.#head];
    this.#batches[this.#head++] = undefined; // published or shed: let it be collected
    this.#events -= batch!.count;
    // Reclaim the consumed front once it is most of the array: O(1) amortized.
    if (this.#head === this.#batches.length) {
      this.#batches = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#batches.length) {
      this.#batches = this.#batches.slice(this.#head);
      this.#head = 0;
    }
    return batch;
  }

  /** Remove everything, reporting it as displaced (used when giving up at close). */
  clear(displaced: Displaced): void {
    for (let b = this.shift(); b; b = this.shift()) add(displaced, b);
  }
}

/**
 * Counted in kernel events: a GAP marker in a shed batch is not an event that
 * happened, but the events it reported lost are lost still, and the GAP that
 * reports this drop is now the only one that can say so.
 */
function add(displaced: Displaced, batch: EncodedBatch): void {
  if (displaced.count === 0) displaced.firstTsNs = batch.firstTsNs;
  displaced.lastTsNs = batch.lastTsNs;
  displaced.count += batch.count - (batch.gaps ?? 0) + (batch.gapLost ?? 0);
}
