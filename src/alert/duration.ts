// Durations as people write them in rule files and on the command line:
// "500ms", "30s", "5m", "1h", "1d", or a bare number of seconds.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/;

/**
 * Milliseconds in `value`, or a description of what is wrong with it.
 * A bare number (or numeric string) counts seconds, as in most YAML configs.
 */
export function parseDuration(value: unknown): { ms: number } | { error: string } {
  let ms: number;
  if (typeof value === "number") {
    ms = value * 1_000;
  } else if (typeof value === "string") {
    const m = DURATION.exec(value);
    if (!m) return { error: `expected a duration like "30s", "5m" or "1h" (got ${JSON.stringify(value)})` };
    ms = Number(m[1]) * (UNIT_MS[m[2] ?? "s"] ?? 1_000);
  } else {
    return { error: `expected a duration like "30s", "5m" or "1h" (got ${JSON.stringify(value) ?? typeof value})` };
  }
  if (!Number.isFinite(ms) || ms <= 0) return { error: `must be a positive duration (got ${JSON.stringify(value)})` };
  return { ms: Math.round(ms) };
}

/** "60s", "5m", "1h30m": an exact, short way to print a rule's window. */
export function formatDuration(ms: number): string {
  if (ms % 1_000 !== 0) return `${ms}ms`;
  let s = ms / 1_000;
  // 60 s reads better than 1m in "more than 20 resets in 60s"; larger windows are decomposed.
  if (s <= 60) return `${s}s`;
  const parts: string[] = [];
  for (const [unit, size] of [["h", 3_600], ["m", 60]] as const) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (s > 0 || parts.length === 0) parts.push(`${s}s`);
  return parts.join("");
}
