// The block's strings, each stored once: pods, addresses, process names,
// nodes, "client"/"server", links and explanations repeat across thousands of
// traces, and an index is one or two bytes.

export class StringDictionary {
  /** Index 0 is always "": a proto3 zero then means the empty string. */
  readonly strings: string[] = [""];
  readonly #index = new Map<string, number>([["", 0]]);

  /** The index of `s` (null and undefined read as ""). */
  of(s: string | null | undefined): number {
    if (!s) return 0;
    let i = this.#index.get(s);
    if (i === undefined) {
      i = this.strings.length;
      this.strings.push(s);
      this.#index.set(s, i);
    }
    return i;
  }
}

/** The string at `i` of a decoded dictionary; a damaged index reads as "" rather than undefined. */
export function stringAt(strings: readonly string[], i: number | null | undefined): string {
  return (i ? strings[i] : undefined) ?? "";
}
