// Times inside a block are deltas from a nearby time (the trace's start, the
// previous trace's start), so they are small varints. Proto3 cannot tell 0
// from absent, and 0 µs means "unknown" or "still open" in a trace, so that
// 0 is kept as 0 and every other time is shifted one away from it: the delta
// of a time equal to its reference is 1, not 0, and nothing is ambiguous.

/** `t` relative to `ref`; 0 stays 0 (see above). */
export function relativeUs(t: number, ref: number): number {
  if (t === 0) return 0;
  const d = t - ref;
  return d >= 0 ? d + 1 : d;
}

/** The inverse of relativeUs. */
export function absoluteUs(rel: number, ref: number): number {
  if (rel === 0) return 0;
  return rel > 0 ? ref + rel - 1 : ref + rel;
}
