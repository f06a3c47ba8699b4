// The times a trace is filed and expired by, the same for a hot row and a
// sealed block, so a trace answers the same queries before and after sealing.
import type { TraceInit } from "../../model/mod.js";

/** No end: an open trace (end_us 0) overlaps every window after its start. */
export const OPEN_END_US = Number.MAX_SAFE_INTEGER;

/** The latest time a trace covers (start, end, any hop's start or end): what age retention compares. */
export function traceLastUs(t: TraceInit): number {
  let last = Math.max(Number(t.startUs ?? 0), Number(t.endUs ?? 0));
  for (const h of t.hops ?? []) last = Math.max(last, Number(h.startUs ?? 0), Number(h.endUs ?? 0));
  return last;
}

/** The end a window query compares with `since`: OPEN_END_US while the trace is open. */
export function traceEndForOverlap(t: TraceInit): number {
  const end = Number(t.endUs ?? 0);
  return end === 0 ? OPEN_END_US : end;
}

/** Bit of an outcome or role in a block's bitmasks; values past 30 share bit 30 (never skipped wrongly, only less sharply). */
export function maskBit(v: number | null | undefined): number {
  const i = v ?? 0;
  return 2 ** Math.min(30, Math.max(0, i));
}
