// A fixed-capacity FIFO of events that overwrites its oldest entries when full:
// while NATS is away the newest events are the ones worth keeping, and a ring
// makes both ends O(1) with no allocation per event.
import type { ConnEventInit, KernelNs } from "../model/mod.js";

/** What was pushed out of the queue by newer events. */
export interface Displaced {
  count: number;
  firstTsNs: KernelNs;
  lastTsNs: KernelNs;
}

export class EventQueue {
  readonly capacity: number;
  #slots: (ConnEventInit | undefined)[];
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be >= 1, got ${capacity}`);
    this.capacity = capacity;
    this.#slots = new Array<ConnEventInit | undefined>(capacity);
  }

  get size(): number {
    return this.#size;
  }

  /** Append events; returns what had to be displaced to make room (count 0 if nothing). */
  pushAll(events: readonly ConnEventInit[], displaced: Displaced): void {
    const cap = this.capacity;
    for (const ev of events) {
      if (this.#size === cap) {
        const old = this.#slots[this.#head]!;
        const ts = old.tsNs;
        if (displaced.count === 0) displaced.firstTsNs = ts;
        displaced.lastTsNs = ts;
        displaced.count++;
        this.#slots[this.#head] = ev;
        this.#head = (this.#head + 1) % cap;
      } else {
        this.#slots[(this.#head + this.#size) % cap] = ev;
        this.#size++;
      }
    }
  }

  /** Remove and return up to `max` events from the front. */
  take(max: number): ConnEventInit[] {
    const n = Math.min(max, this.#size);
    const out = new Array<ConnEventInit>(n);
    const cap = this.capacity;
    for (let i = 0; i < n; i++) {
      const at = (this.#head + i) % cap;
      out[i] = this.#slots[at]!;
      this.#slots[at] = undefined; // let the event be collected once published
    }
    this.#head = (this.#head + n) % cap;
    this.#size -= n;
    return out;
  }

  /** Remove everything, reporting it as displaced (used when giving up at close). */
  clear(displaced: Displaced): void {
    const all = this.take(this.#size);
    for (const ev of all) {
      const ts = ev.tsNs;
      if (displaced.count === 0) displaced.firstTsNs = ts;
      displaced.lastTsNs = ts;
      displaced.count++;
    }
  }
}
