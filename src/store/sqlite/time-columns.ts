// How times cross into and out of SQL. Wall-clock µs are plain numbers (2^53 µs
// is 285 years). Kernel ns (src/model/kernel-time.ts) are bigint: the columns
// are SQLite INTEGERs (int64), bound as bigint and read back as decimal text,
// so no value past 2^53 (104 days of uptime) is ever rounded.

/** No upper bound on wall-clock µs (2^53 µs is 285 years: any real time is below). */
export const FOREVER_US = Number.MAX_SAFE_INTEGER;
/**
 * No upper bound on kernel ns. Those columns are SQLite INTEGERs (int64) and
 * bound as bigint: 2^53 would cut off every event after 104 days of uptime;
 * int64 max is 292 years.
 */
export const FOREVER_NS = (1n << 63n) - 1n;
/** Kernel ns columns read as text: better-sqlite3 would round an INTEGER past 2^53 to a double. */
export const TS_NS = "CAST(e.ts_ns AS TEXT) AS ts_ns";

/** Order of two kernel times read as decimal text (TS_NS). */
export function compareNs(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
