// `tcptrail traces -o table`: one line per trace.
import { formatColumns } from "./columns.js";
import { addr, attemptOf, originName, who } from "./describe.js";
import { escapeStrings } from "../text/escape.js";
import { formatHumanTime, zoneName, type HumanTimeOptions } from "../text/human-time.js";
import { formatDurationUs } from "./time.js";
import type { TraceJson } from "./trace-json.js";

/** "10:00:00.123", the part of the time that differs between nearby traces. */
const clock = (us: number, opts: HumanTimeOptions): string => formatHumanTime(us, opts).slice(0, 12);

export function renderTraceTable(stored: TraceJson[], opts: HumanTimeOptions = {}): string {
  if (stored.length === 0) return "no traces";
  const traces = escapeStrings(stored);
  const rows = [[`START (${zoneName(opts)})`, "TRACE", "OUTCOME", "HOPS", "DURATION", "FROM", "TO", "ORIGIN"]];
  for (const t of traces) {
    const first = t.hops[0];
    const last = t.hops[t.hops.length - 1];
    const originHop = t.hops.find((h) => h.index === t.reset_origin_hop);
    // "hop 5, attempt 3 of 3": which of a retrying proxy's attempts failed last.
    const where = [`hop ${t.reset_origin_hop ?? "?"}`, originHop ? attemptOf(originHop) : ""].filter(Boolean).join(", ");
    rows.push([
      clock(t.start_us, opts),
      t.trace_id,
      t.outcome,
      String(t.hops.length),
      t.end_us ? formatDurationUs(t.end_us - t.start_us) : "open",
      first ? `${who(first.client)} ${addr(first.client)}` : "-",
      first?.original_destination ?? (last ? addr(last.server) : "-"),
      t.reset_origin ? `${originName(t.reset_origin)} (${where})` : "-",
    ]);
  }
  return formatColumns(rows);
}
