// A point in wall-clock time as people type it on the command line, in an API
// query or anywhere else tcptrail asks "since when": a duration ago ("5m",
// "1h30m"), an RFC 3339 time, "now", or microseconds since the epoch (what
// `start_us` and `time_us` show, so a value can be pasted back).
import { durationUs } from "./duration.js";
import { InvalidTimeError } from "./errors.js";
import { parseRfc3339 } from "./rfc3339.js";

/** What a time looks like; completes "<option> must be …". */
export const TIME_SYNTAX =
  "a duration like 5m, 1h30m or 2d (that long ago), an RFC 3339 time like 2026-11-21T10:00:00Z, now, or µs since the epoch";

// 17 digits reach year 5138; more is a typo, not a time.
const EPOCH_US = /^\d{1,17}$/;

export interface ParseTimeOptions {
  /** What the value was given for, named in the error: "--since", "until". */
  option: string;
  /** What "now" and durations are relative to, µs since the epoch. Default: the current time. */
  nowUs?: number;
}

/**
 * Microseconds since the epoch that `text` designates.
 * @throws InvalidTimeError
 */
export function parseTimeUs(text: string, opts: ParseTimeOptions): number {
  const s = text.trim();
  const nowUs = opts.nowUs ?? Date.now() * 1_000;
  if (s === "now") return nowUs;
  if (EPOCH_US.test(s)) return Number(s);
  const ago = durationUs(s);
  if (ago !== undefined) return nowUs - ago;
  const t = parseRfc3339(s);
  if ("us" in t) return t.us;
  throw InvalidTimeError.expecting(opts.option, text, TIME_SYNTAX, t.problem);
}

/** Like parseTimeUs, as a Date (millisecond resolution). @throws InvalidTimeError */
export function parseTime(text: string, opts: ParseTimeOptions): Date {
  return new Date(Math.floor(parseTimeUs(text, opts) / 1_000));
}
