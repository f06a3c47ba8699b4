// Durations as people type them: "250ms", "90s", "5m", "1h30m", "1.5h", "2d".
// Parsed to exact microseconds (the resolution of every wall-clock time in
// tcptrail), and printed back in the same grammar.
import { InvalidTimeError } from "./errors.js";

/** What a duration looks like; completes "<option> must be …". */
export const DURATION_SYNTAX = "a duration like 90s, 5m, 1h30m, 1.5h, 2d or 250ms";

/** Microseconds per unit, largest first: the order units must appear in. */
const UNIT_US = [
  ["d", 86_400_000_000],
  ["h", 3_600_000_000],
  ["m", 60_000_000],
  ["s", 1_000_000],
  ["ms", 1_000],
  ["us", 1],
  ["µs", 1],
] as const;
const US_OF: ReadonlyMap<string, number> = new Map(UNIT_US);
const RANK: ReadonlyMap<string, number> = new Map(UNIT_US.map(([u], i) => [u, u === "µs" ? i - 1 : i]));

// "ms" must be tried before "m" and "µs"/"us" before "s", hence the order.
const PART = /(\d+(?:\.\d+)?)(ms|us|µs|d|h|m|s)/y;

/**
 * Microseconds in `text` (rounded to a whole µs), or undefined when it is not
 * a duration. Units go from largest to smallest, each at most once, so "5m5m"
 * and "30s1h" (almost certainly typos) are not durations.
 */
export function durationUs(text: string): number | undefined {
  const s = text.trim();
  if (s === "") return undefined;
  PART.lastIndex = 0;
  let us = 0;
  let lastRank = -1;
  while (PART.lastIndex < s.length) {
    const m = PART.exec(s);
    if (!m) return undefined;
    const rank = RANK.get(m[2]!)!;
    if (rank <= lastRank) return undefined;
    lastRank = rank;
    us += Number(m[1]) * US_OF.get(m[2]!)!;
  }
  return Number.isSafeInteger(Math.round(us)) ? Math.round(us) : undefined;
}

/**
 * @param option what the value was given for, named in the error ("--since", "rate.window").
 * @throws InvalidTimeError
 */
export function parseDurationUs(text: string, option: string): number {
  const us = durationUs(text);
  if (us === undefined) throw InvalidTimeError.expecting(option, text, DURATION_SYNTAX);
  return us;
}

/** Like parseDurationUs, in milliseconds (rounded). @throws InvalidTimeError */
export function parseDurationMs(text: string, option: string): number {
  return Math.round(parseDurationUs(text, option) / 1_000);
}

/**
 * "60s", "5m", "1h30m", "250ms": the shortest exact spelling in the grammar
 * above, so what is printed can be typed back in. Up to a minute prints as
 * seconds ("more than 20 resets in 60s" reads better than "in 1m").
 */
export function formatDurationMs(ms: number): string {
  if (ms % 1_000 !== 0) return `${ms}ms`;
  let s = ms / 1_000;
  if (s <= 60) return `${s}s`;
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["m", 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0) parts.push(`${s}s`);
  return parts.join("");
}
