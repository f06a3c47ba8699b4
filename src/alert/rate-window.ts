// Sliding-window counting with bounded memory. Both questions the engine asks
// ("more than N in the window?" and "fewer than max in the period?") only need
// the most recent `capacity` hits, so each key keeps a small ring of times.
import { InvalidArgumentError } from "../errors/mod.js";

export class RateWindow {
  readonly #times: number[];
  readonly #windowMs: number;
  // Index of the oldest stored hit; the ring is full once `#size` reaches capacity.
  #head = 0;
  #size = 0;

  /** `capacity`: hits worth remembering; `windowMs`: how far back a hit counts. */
  constructor(capacity: number, windowMs: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw InvalidArgumentError.format("capacity", `must be a positive integer, got ${capacity}`);
    if (!(windowMs > 0)) throw InvalidArgumentError.format("windowMs", `must be positive, got ${windowMs}`);
    this.#times = new Array<number>(capacity).fill(0);
    this.#windowMs = windowMs;
  }

  /** Records a hit at `now` (ms), forgetting the oldest once `capacity` are stored. */
  record(now: number): void {
    const cap = this.#times.length;
    if (this.#size < cap) {
      this.#times[(this.#head + this.#size) % cap] = now;
      this.#size++;
    } else {
      this.#times[this.#head] = now;
      this.#head = (this.#head + 1) % cap;
    }
  }

  /** Hits within (now - windowMs, now], at most `capacity`. */
  count(now: number): number {
    const cap = this.#times.length;
    const since = now - this.#windowMs;
    let n = 0;
    for (let i = 0; i < this.#size; i++) if ((this.#times[(this.#head + i) % cap] ?? 0) > since) n++;
    return n;
  }

  /** Whether every remembered hit has left the window, so the key can be dropped. */
  idle(now: number): boolean {
    if (this.#size === 0) return true;
    const newest = this.#times[(this.#head + this.#size - 1) % this.#times.length] ?? 0;
    return newest <= now - this.#windowMs;
  }
}
