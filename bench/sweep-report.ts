// The sweep as two compact tables: per offered rate (untraced, agent, run
// one under the other), and full speed side by side with tcpdump.
import type { ChurnRun } from "./paced-churn.js";
import type { SweepResult, TracedChurn, TracerCounts } from "./sweep-bench.js";
import { formatLinkCost } from "./sweep-link-cost.js";

export interface SweepRow {
  mode: string;
  /** Offered conns/s, 0 at full speed. */
  offered: number;
  achieved: number;
  /** achieved / offered for a paced run, achieved / untraced achieved at full speed. */
  ratio: number;
  failed: number;
  counts?: TracerCounts;
  /** Probe lines (both ends of each connection) per completed connection. */
  linesPerConn?: number;
  note?: string;
}

function row(mode: string, churn: ChurnRun, base: number, counts?: TracerCounts, note?: string): SweepRow {
  return {
    mode,
    offered: churn.offered,
    achieved: churn.achieved,
    ratio: base > 0 ? churn.achieved / base : NaN,
    failed: churn.failed,
    ...(counts ? { counts, linesPerConn: churn.completed > 0 ? counts.probeLines / churn.completed : NaN } : {}),
    ...(note ? { note } : {}),
  };
}

/** A stalled event loop is part of the result: said next to the row. */
export const SLOW_SCRAPE_MS = 1000;

const traced = (mode: string, t: TracedChurn, base: number) =>
  row(mode, t.churn, base, t.counts, t.counts.slowestScrapeMs > SLOW_SCRAPE_MS ? `/metrics took ${(t.counts.slowestScrapeMs / 1000).toFixed(1)} s to answer` : undefined);

/** Paced rows, grouped by offered rate; each ratio is to what was offered. */
export function pacedRows(r: SweepResult): SweepRow[] {
  return r.options.rates.flatMap((rate, i) => {
    const rows: SweepRow[] = [];
    const untraced = r.untraced.paced[i];
    const agent = r.agent.paced[i];
    const run = r.run.paced[i];
    if (untraced) rows.push(row("untraced", untraced, rate));
    if (agent) rows.push(traced("agent", agent, rate));
    if (run) rows.push(traced("run", run, rate));
    return rows;
  });
}

/** Full-speed rows; each ratio is to the untraced run. */
export function fullSpeedRows(r: SweepResult): SweepRow[] {
  const base = r.untraced.full.achieved;
  const t = r.tcpdump.counts;
  return [
    row("untraced", r.untraced.full, base),
    row("tcpdump", r.tcpdump.full, base, undefined, `${fmt(t.captured)} SYN/FIN/RST packets written, ${fmt(t.droppedByKernel)} dropped by kernel`),
    ...(r.agent.full ? [traced("agent", r.agent.full, base)] : []),
    ...(r.run.full ? [traced("run", r.run.full, base)] : []),
  ];
}

/** How each tracer ended: its stop time on SIGINT, and why its sweep ended early if it did. */
export function tracerNotes(r: SweepResult): string[] {
  return (["agent", "run"] as const).flatMap((mode) => {
    const t = r[mode];
    const notes: string[] = [];
    if (t.exit) notes.push(`tcptrail ${mode}: exited ${t.exit.exitCode ?? t.exit.signal} ${(t.exit.stopMs / 1000).toFixed(1)} s after SIGINT${t.exit.killed ? " (killed: it did not stop in time)" : ""}`);
    if (t.error) notes.push(`tcptrail ${mode}: sweep ended early: ${t.error}`);
    return notes;
  });
}

const fmt = (n: number) => (Number.isFinite(n) ? Math.round(n).toLocaleString("en-US") : "-");

const COLUMNS: Array<[string, number, (r: SweepRow) => string]> = [
  ["mode", -9, (r) => r.mode],
  ["offered/s", 10, (r) => (r.offered > 0 ? fmt(r.offered) : "full")],
  ["achieved/s", 11, (r) => fmt(r.achieved)],
  ["ratio", 6, (r) => (Number.isFinite(r.ratio) ? r.ratio.toFixed(2) : "-")],
  ["events read", 12, (r) => (r.counts ? fmt(r.counts.eventsRead) : "-")],
  ["lines/conn", 11, (r) => (r.linesPerConn !== undefined && Number.isFinite(r.linesPerConn) ? r.linesPerConn.toFixed(1) : "-")],
  ["kernel lost", 12, (r) => (r.counts ? fmt(r.counts.kernelLost) : "-")],
  ["queue dropped", 14, (r) => (r.counts ? fmt(r.counts.queueDropped) : "-")],
  ["drain s", 8, (r) => (r.counts ? `${(r.counts.drainMs / 1000).toFixed(1)}${r.counts.settled ? "" : "+"}` : "-")],
  ["failed", 7, (r) => fmt(r.failed)],
];

const cell = (text: string, width: number) => (width < 0 ? text.padEnd(-width) : text.padStart(width));

export function formatRows(rows: readonly SweepRow[]): string[] {
  const header = COLUMNS.map(([name, w]) => cell(name, w)).join(" ");
  return [header, ...rows.map((r) => COLUMNS.map(([, w, get]) => cell(get(r), w)).join(" ") + (r.note ? `  ${r.note}` : ""))];
}

export function formatSweep(r: SweepResult): string[] {
  const o = r.options;
  return [
    `bpftrace ${r.bpftrace.version} at ${r.bpftrace.path} (${r.bpftrace.source}; TCPTRAIL_BPFTRACE chooses another)`,
    `paced loopback churn: ${o.seconds} s per run, ${o.dialers} dialers, ${o.acceptors} acceptors, half closed by the server's RST, the rest by its FIN${o.churnUid === undefined ? "" : `, run as uid ${o.churnUid} (the agent's --sidecar-uid: every send and receive passes the link probes' filter; \`run\` links uid 1337, its default)`}`,
    "ratio: achieved / offered; lines/conn: probe lines per connection, both ends; drain s: churn end until the counters stopped growing (+: still growing)",
    "",
    ...formatRows(pacedRows(r)),
    "",
    "full speed, side by side (ratio: achieved / untraced):",
    ...formatRows(fullSpeedRows(r)),
    "",
    ...tracerNotes(r),
    ...(r.links ? ["", ...formatLinkCost(r.links)] : []),
  ];
}
