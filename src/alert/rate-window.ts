// Sliding-window counting with bounded memory. Both questions the engine asks
// ("more than N in the window?" and "fewer than max in the period?") only need
// the most recent `capacity` hits, so each key keeps a small ring of times.
import { InvalidArgumentError } from "../errors/mod.js";

export class RateWindow {
  // Grown as hits come, up to capacity: a key that sees three hits costs
  // three slots, whatever threshold the rule allows.
  readonly #times: number[] = [];
  readonly #capacity: number;
  readonly #windowMs: number;
  // Index of the oldest stored hit; the ring is full once `#size` reaches capacity.
  #head = 0;
  #size = 0;

  /** `capacity`: hits worth remembering; `windowMs`: how far back a hit counts. */
  constructor(capacity: number, windowMs: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw InvalidArgumentError.format("capacity", `must be a positive integer, got ${capacity}`);
    if (!(windowMs > 0)) throw InvalidArgumentError.format("windowMs", `must be positive, got ${windowMs}`);
    this.#capacity = capacity;
    this.#windowMs = windowMs;
  }

  /** Records a hit at `now` (ms), forgetting the oldest once `capacity` are stored. */
  record(now: number): void {
    const cap = this.#capacity;
    if (this.#size < cap) {
      // Not full yet, so the oldest is still at 0: the next slot is the end.
      this.#times.push(now);
      this.#size++;
    } else {
      this.#times[this.#head] = now;
      this.#head = (this.#head + 1) % cap;
    }
  }

  /** Hits within (now - windowMs, now], at most `capacity`. */
  count(now: number): number {
    const cap = this.#capacity;
    const since = now - this.#windowMs;
    let n = 0;
    for (let i = 0; i < this.#size; i++) if ((this.#times[(this.#head + i) % cap] ?? 0) > since) n++;
    return n;
  }

  /** Whether every remembered hit has left the window, so the key can be dropped. */
  idle(now: number): boolean {
    if (this.#size === 0) return true;
    const newest = this.#times[(this.#head + this.#size - 1) % this.#capacity] ?? 0;
    return newest <= now - this.#windowMs;
  }
}
