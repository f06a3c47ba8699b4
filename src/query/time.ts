// Times as the JSON and the renderers show them (RFC3339 with microseconds,
// UTC; short durations). Parsing what users type is src/timefmt's job.

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
