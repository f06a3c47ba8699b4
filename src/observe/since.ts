// `--since`: a look-back duration ("5m", "1h30m") or an absolute RFC 3339 time.
import { InvalidSinceError } from "./errors.js";

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
// Date.parse accepts far more than RFC 3339 (and guesses time zones), so gate it.
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/** Parse "90s", "5m", "1h30m", "250ms", "2d" into milliseconds; undefined if not a duration. */
export function parseDurationMs(s: string): number | undefined {
  if (!DURATION.test(s)) return undefined;
  let ms = 0;
  for (const [, n, unit] of s.matchAll(PART)) ms += Number(n) * UNIT_MS[unit!]!;
  return ms;
}

/** Date.parse silently rolls 2026-02-31 over to March 3: check the fields first. */
function validFields(m: RegExpExecArray): boolean {
  const [y, mo, d, h, mi, s, oh, om] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x))) as number[];
  const daysInMonth = new Date(Date.UTC(y!, mo!, 0)).getUTCDate();
  return mo! >= 1 && mo! <= 12 && d! >= 1 && d! <= daysInMonth && h! < 24 && mi! < 60 && s! < 60 && oh! < 24 && om! < 60;
}

/**
 * The start time `--since` designates, relative to `now` for durations.
 * @throws InvalidSinceError
 */
export function parseSince(value: string, now: number = Date.now()): Date {
  const v = value.trim();
  const ms = parseDurationMs(v);
  if (ms !== undefined) return new Date(now - ms);
  const m = RFC3339.exec(v);
  if (m && validFields(m)) {
    const t = Date.parse(v.replace(" ", "T"));
    if (!Number.isNaN(t)) return new Date(t);
  }
  throw new InvalidSinceError(value);
}
