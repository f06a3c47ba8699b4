// One string per distinct value of a field that repeats line after line
// (socket addresses a busy slab hands out again and again, process names,
// addresses): the parser finds the value in its line without cutting a new
// string out of it, so an event costs no string of its own. A slice of a
// line would also keep the whole line (or the whole 64 KiB chunk it lies in)
// alive for as long as the event: an interned string is a copy of its own.

/** Distinct values kept before the table starts over (a slab address is reused, but the slab grows and shrinks). */
export const DEFAULT_INTERNER_CAPACITY = 65_536;

export class StringInterner {
  readonly #capacity: number;
  readonly #table = new Map<number, string>();

  constructor(capacity = DEFAULT_INTERNER_CAPACITY) {
    this.#capacity = capacity;
  }

  get size(): number {
    return this.#table.size;
  }

  /** text[start, end) as a string, the same string every time for the same characters. */
  intern(text: string, start: number, end: number): string {
    // FNV-1a over the UTF-16 units, with the length mixed in.
    let h = 0x811c9dc5 ^ (end - start);
    for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    const found = this.#table.get(h);
    if (found !== undefined && found.length === end - start && text.startsWith(found, start)) return found;
    // A miss (or another value with the same hash, which then takes the slot).
    if (this.#table.size >= this.#capacity) this.#table.clear();
    const s = ownCopy(text, start, end);
    this.#table.set(h, s);
    return s;
  }
}

/**
 * text[start, end) in memory of its own. V8 makes a substring of 13 or more
 * characters a view of its parent; joining one-character pieces makes a flat
 * copy. Only misses pay for it.
 */
function ownCopy(text: string, start: number, end: number): string {
  const s = text.slice(start, end);
  return s.length < 13 ? s : s.split("").join("");
}
