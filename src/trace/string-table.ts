// Interning: every live socket refers to its pod, addresses and command by a
// small integer, so a million sockets in ten pods hold ten pod strings, not a
// million. Id 0 is always the empty string.

export class StringTable {
  #ids = new Map<string, number>([["", 0]]);
  #values: string[] = [""];

  /** The id of `s`, adding it on first sight. */
  intern(s: string | null | undefined): number {
    if (!s) return 0;
    let id = this.#ids.get(s);
    if (id === undefined) {
      id = this.#values.length;
      this.#values.push(s);
      this.#ids.set(s, id);
    }
    return id;
  }

  /** The id of `s` if it was ever interned, else -1 (never adds). */
  find(s: string): number {
    return this.#ids.get(s) ?? -1;
  }

  get(id: number): string {
    return this.#values[id] ?? "";
  }

  get size(): number {
    return this.#values.length;
  }
}
