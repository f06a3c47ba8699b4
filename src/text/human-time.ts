// The one way human output prints a point in time: UTC unless the user asked
// for the local zone (`--local`). One zone everywhere, so lines from `traces`,
// `timeline`, `observe` and `alerts` can be compared by eye and pasted into a
// ticket read in another zone. JSON keeps its own RFC 3339 UTC (./time.ts).

export interface HumanTimeOptions {
  /** The machine's local zone instead of UTC. Default false. */
  local?: boolean;
  /** With the date ("2025-01-02 03:04:05.678901Z"), not only the clock. Default false. */
  date?: boolean;
}

export const DEFAULT_HUMAN_TIME: Readonly<Required<HumanTimeOptions>> = { local: false, date: false };

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** The zone suffix of a local time: "+01:00", "-05:30", "+00:00". */
function offset(d: Date): string {
  const m = -d.getTimezoneOffset();
  const a = Math.abs(m);
  return `${m < 0 ? "-" : "+"}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/**
 * "03:04:05.678901" (UTC) from µs since the epoch; with `date`,
 * "2025-01-02 03:04:05.678901Z" or, local, "2025-01-02 04:04:05.678901+01:00".
 * "-" for 0 or a time that is not one.
 */
export function formatHumanTime(timeUs: number, opts: HumanTimeOptions = {}): string {
  const local = opts.local ?? DEFAULT_HUMAN_TIME.local;
  const d = new Date(Math.floor(timeUs / 1000));
  if (!timeUs || Number.isNaN(d.getTime())) return "-";
  const us = ((timeUs % 1_000_000) + 1_000_000) % 1_000_000;
  const [Y, M, D, h, m, s] = local
    ? [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds()]
    : [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()];
  const clock = `${pad(h)}:${pad(m)}:${pad(s)}.${pad(us, 6)}`;
  if (!(opts.date ?? DEFAULT_HUMAN_TIME.date)) return clock;
  return `${Y}-${pad(M)}-${pad(D)} ${clock}${local ? offset(d) : "Z"}`;
}

/** The zone a column header names: "UTC" or "local". */
export const zoneName = (opts: HumanTimeOptions = {}): string => (opts.local ? "local" : "UTC");
