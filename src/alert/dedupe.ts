// De-duplication groups: matches of one rule with the same key, within the
// window that opened with the first of them, are one alert whose count grows.
// The group's id is the alert id, so consumers can update instead of append.

export interface DedupeGroup<T> {
  /** The de-duplication key the group was opened for. */
  readonly key: string;
  /** The alert id every emission of this group carries. */
  readonly id: string;
  /** Clock time (ms) of the match that opened the group. */
  readonly openedAt: number;
  /** Matches folded into the group so far. */
  count: number;
  /** `count` at the last emission: when lower than `count`, matches are waiting to be reported. */
  reported: number;
  /** The most recent match, what an emission describes. */
  latest: T;
}

export class DedupeTable<T> {
  readonly #windowMs: number;
  readonly #groups = new Map<string, DedupeGroup<T>>();

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /**
   * Folds a match into the open group for `key`, or opens one (named by
   * `newId`) when there is none or its window is over.
   */
  fold(key: string, now: number, latest: T, newId: () => string): DedupeGroup<T> {
    const open = this.#groups.get(key);
    if (open && now - open.openedAt < this.#windowMs) {
      open.count++;
      open.latest = latest;
      return open;
    }
    const group: DedupeGroup<T> = { key, id: newId(), openedAt: now, count: 1, reported: 0, latest };
    // Re-inserting keeps the map in opening order, which trim() relies on.
    this.#groups.delete(key);
    this.#groups.set(key, group);
    return group;
  }

  /** Groups holding matches not yet reported, oldest first. */
  *pending(): Generator<DedupeGroup<T>> {
    for (const g of this.#groups.values()) if (g.count > g.reported) yield g;
  }

  /** Drops groups whose window is over and that have nothing left to report. */
  expire(now: number): void {
    for (const [key, g] of this.#groups) {
      if (now - g.openedAt >= this.#windowMs && g.count === g.reported) this.#groups.delete(key);
    }
  }

  /**
   * Keeps at most `max` groups by dropping the oldest opened: a flood of
   * distinct keys (hostile or broken traces) must not grow memory unbounded.
   * Returns how many were dropped.
   */
  trim(max: number): number {
    let dropped = 0;
    for (const key of this.#groups.keys()) {
      if (this.#groups.size <= max) break;
      this.#groups.delete(key);
      dropped++;
    }
    return dropped;
  }

  get size(): number {
    return this.#groups.size;
  }
}
