// Durations in the rules file (`window`, `per`): the common time grammar
// ("500ms", "30s", "5m", "1h30m", "1d"), plus what YAML configs conventionally
// allow and the grammar does not: a bare number counts seconds.
import { DURATION_SYNTAX, durationUs } from "../timefmt/mod.js";

const SECONDS = /^\s*\d+(?:\.\d+)?\s*$/;

/** Milliseconds in `value`, or what is wrong with it (the caller names the field). */
export function parseDuration(value: unknown): { ms: number } | { error: string } {
  let ms: number | undefined;
  if (typeof value === "number") ms = value * 1_000;
  else if (typeof value === "string") ms = SECONDS.test(value) ? Number(value) * 1_000 : usToMs(durationUs(value));
  if (ms === undefined) return { error: `expected ${DURATION_SYNTAX}, or a number of seconds (got ${shown(value)})` };
  if (!Number.isFinite(ms) || Math.round(ms) <= 0) return { error: `must be a positive duration (got ${shown(value)})` };
  // A bare number of seconds can be any double; windows are whole ms the engine adds to and compares.
  if (!Number.isSafeInteger(Math.round(ms))) return { error: `must be a duration under 285 000 years (got ${shown(value)})` };
  return { ms: Math.round(ms) };
}

/**
 * The value as the error quotes it, worded as the rule schema words it. Not
 * JSON: it has no NaN or Infinity and would call YAML's .nan, .inf (even
 * inside a list) "null".
 */
function shown(v: unknown): string {
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (Array.isArray(v)) return "a list";
  if (typeof v === "object" && v !== null) return "a mapping";
  return JSON.stringify(v) ?? typeof v;
}

const usToMs = (us: number | undefined): number | undefined => (us === undefined ? undefined : us / 1_000);
