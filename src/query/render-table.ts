// `tcptrail traces -o table`: one line per trace.
import { formatColumns } from "./columns.js";
import { addr, originName, who } from "./describe.js";
import { formatDurationUs } from "./time.js";
import type { TraceJson } from "./trace-json.js";

/** "10:00:00.123" in UTC, the part of the time that differs between nearby traces. */
const clock = (t: string | null): string => (t ? t.slice(11, 23) : "-");

export function renderTraceTable(traces: TraceJson[]): string {
  if (traces.length === 0) return "no traces";
  const rows = [["START (UTC)", "TRACE", "OUTCOME", "HOPS", "DURATION", "FROM", "TO", "ORIGIN"]];
  for (const t of traces) {
    const first = t.hops[0];
    const last = t.hops[t.hops.length - 1];
    rows.push([
      clock(t.start),
      t.trace_id,
      t.outcome,
      String(t.hops.length),
      t.end_us ? formatDurationUs(t.end_us - t.start_us) : "open",
      first ? `${who(first.client)} ${addr(first.client)}` : "-",
      first?.original_destination ?? (last ? addr(last.server) : "-"),
      t.reset_origin ? `${originName(t.reset_origin)} (hop ${t.reset_origin_hop ?? "?"})` : "-",
    ]);
  }
  return formatColumns(rows);
}
