// Times as users type them (5m, 2h, RFC3339) and as the JSON shows them
// (RFC3339 with microseconds, UTC), both in wall-clock microseconds.

const UNIT_US: Record<string, number> = { us: 1, "µs": 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6, d: 86400e6 };
const DURATION = /^(\d+(?:\.\d+)?)(us|µs|ms|s|m|h|d)$/;
const RFC3339 = /^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * "5m" (that long before `nowUs`), "now", an RFC3339 time, or plain digits
 * (µs since the epoch, what `start_us` shows). Null when it is none of these.
 */
export function parseTimeParam(s: string, nowUs: number = Date.now() * 1000): number | null {
  const v = s.trim();
  if (v === "now") return nowUs;
  const d = DURATION.exec(v);
  if (d) return Math.round(nowUs - Number(d[1]) * UNIT_US[d[2]!]!);
  if (/^\d{1,17}$/.test(v)) return Number(v);
  const t = RFC3339.exec(v);
  if (!t) return null;
  const ms = Date.parse(`${t[1]}T${t[2]}${t[4]!.toUpperCase()}`);
  if (Number.isNaN(ms)) return null;
  const frac = Number((t[3] ?? "").padEnd(6, "0").slice(0, 6));
  return ms * 1000 + frac;
}

/** "2024-05-01T10:00:00.123456Z"; null for 0 (not set). */
export function formatTimeUs(us: number): string | null {
  if (!us) return null;
  const sec = Math.floor(us / 1e6);
  const iso = new Date(sec * 1000).toISOString();
  return `${iso.slice(0, 19)}.${String(us - sec * 1e6).padStart(6, "0")}Z`;
}

/** "850 µs", "12.4 ms", "3.20 s". */
export function formatDurationUs(us: number): string {
  if (us < 1000) return `${Math.round(us)} µs`;
  if (us < 1e6) return `${(us / 1000).toFixed(1)} ms`;
  return `${(us / 1e6).toFixed(2)} s`;
}
