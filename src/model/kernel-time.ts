// Kernel time: nanoseconds since boot (bpftrace `nsecs`, bpf_ktime_get_ns),
// the clock that orders one node's events. It is a u64, and a double holds
// integers exactly only up to 2^53, which the kernel clock passes after 104.2
// days of uptime: from then on Number("…") rounds to a multiple of 2, 4, …
// 2048 ns, two events compare equal or swap, and socket ids (node/sock/birth)
// collide. So every absolute kernel instant is a bigint in memory; durations
// between two instants of one node are small and come back to number through
// nsBetween. Wall-clock µs stay numbers (2^53 µs is 285 years).

/** An absolute kernel instant: ns since boot, exact for any uptime. */
export type KernelNs = bigint;

/** The largest u64: the kernel clock and uint64 fields cannot go beyond. */
export const MAX_KERNEL_NS: KernelNs = (1n << 64n) - 1n;

/**
 * "Never" / "unknown" in columns and optional fields. The kernel clock is past
 * 0 by the time any probe runs, so 0 is never a real instant.
 */
export const NO_KERNEL_NS: KernelNs = 0n;

const NS_PER_S = 1_000_000_000n;
const NS_PER_US = 1000n;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
// At most 20 digits: u64 max has 20. The length check first keeps a hostile
// megabyte of digits from reaching BigInt().
const DECIMAL = /^[0-9]+$/;

/**
 * Exact kernel ns from unsigned decimal text, or null when the text is not
 * one (sign, spaces, hex, empty) or the value does not fit a u64.
 */
export function parseKernelNs(s: string | undefined): KernelNs | null {
  if (s === undefined || s.length === 0 || s.length > 20 || !DECIMAL.test(s)) return null;
  const v = BigInt(s);
  return v <= MAX_KERNEL_NS ? v : null;
}

/** Is `v` a kernel instant a u64 clock can hold (0 allowed: "never")? */
export function isKernelNs(v: unknown): v is KernelNs {
  return typeof v === "bigint" && v >= 0n && v <= MAX_KERNEL_NS;
}

/**
 * b - a in ns as a number, for durations and windows. Exact while the span is
 * under 104 days (always, between events one window apart); a longer span
 * is rounded, never wrong in sign or order of magnitude.
 */
export function nsBetween(a: KernelNs, b: KernelNs): number {
  return Number(b - a);
}

/** A duration in ns (number, e.g. a window from options) as bigint, to add to an instant. */
export function nsSpan(ns: number): bigint {
  return BigInt(Math.round(ns));
}

/**
 * Whole µs since boot: exact in a double for 285 years of uptime, so wall-clock
 * maths stays in numbers. Below 2^53 ns (104 days) the division is done in
 * doubles, exactly (x - x % 1000 is a multiple of 1000 a double holds), without
 * the BigInt a bigint division makes: the agent asks once per event.
 */
export function kernelUs(ns: KernelNs): number {
  if (ns >= 0n && ns <= MAX_SAFE) {
    const x = Number(ns);
    return (x - (x % 1000)) / 1000;
  }
  return Number(ns / NS_PER_US);
}

/** Node's monotonic clock (process.hrtime) as kernel-comparable ns. */
export function monotonicNs(): KernelNs {
  return process.hrtime.bigint();
}

// ---- The wire: protobufjs (Long disabled) writes and reads uint64 exactly
// only up to 2^53, so messages carry a base in whole seconds (a double holds
// any uptime in seconds) and small ns offsets from it.

/** The base of a batch whose earliest instant is `earliest`: whole seconds since boot. */
export function baseSecondsOf(earliest: KernelNs): number {
  return Number(earliest / NS_PER_S);
}

/** The base in ns, or null when base_s cannot be a u64 clock's second. */
export function baseNsOf(baseS: number): KernelNs | null {
  if (!Number.isSafeInteger(baseS) || baseS < 0) return null;
  const ns = BigInt(baseS) * NS_PER_S;
  return ns <= MAX_KERNEL_NS ? ns : null;
}

/**
 * `ns` as an offset from `baseNs` for the wire. Throws RangeError when the
 * offset does not fit a double exactly (more than 104 days from the base):
 * an encoder bug, never data to round silently. A plain RangeError on
 * purpose, not a TcptrailError: no caller can cause it or should catch it.
 */
export function offsetFrom(baseNs: KernelNs, ns: KernelNs): number {
  const d = ns - baseNs;
  if (d > MAX_SAFE || d < -MAX_SAFE) throw new RangeError(`kernel time ${ns} is more than 2^53 ns from the base ${baseNs}`);
  return Number(d);
}

/**
 * The instant `offset` ns from `baseNs`, or null when the offset is not a
 * safe integer (protobufjs rounds a larger varint) or the instant falls
 * outside a u64 clock.
 */
export function fromOffset(baseNs: KernelNs, offset: number): KernelNs | null {
  if (!Number.isSafeInteger(offset)) return null;
  const v = baseNs + BigInt(offset);
  return v >= 0n && v <= MAX_KERNEL_NS ? v : null;
}
