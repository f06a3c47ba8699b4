// `tcptrail traces -o table` and `-o compact`: one line per trace, aligned
// under a header or not (compact is also what `traces -f` prints as traces
// arrive, when no later row can change a column's width).
import { formatColumns } from "./columns.js";
import { paintOutcome, plain, type Painter } from "./render-color.js";
import { addr, attemptOf, originName, who } from "./describe.js";
import { escapeStrings } from "../text/escape.js";
import { formatHumanTime, zoneName, type HumanTimeOptions } from "../text/human-time.js";
import { formatDurationUs } from "./time.js";
import type { TraceJson } from "./trace-json.js";

/** "10:00:00.123", the part of the time that differs between nearby traces. */
const clock = (us: number, opts: HumanTimeOptions): string => formatHumanTime(us, opts).slice(0, 12);

export interface TraceRenderOptions extends HumanTimeOptions {
  /** Colours outcomes. Default: none. */
  paint?: Painter;
}

/** The cells of one trace, escaped and painted. */
function traceCells(stored: TraceJson, opts: TraceRenderOptions): string[] {
  const t = escapeStrings(stored);
  const first = t.hops[0];
  const last = t.hops[t.hops.length - 1];
  const originHop = t.hops.find((h) => h.index === t.reset_origin_hop);
  // "hop 5, attempt 3 of 3": which of a retrying proxy's attempts failed last.
  const where = [`hop ${t.reset_origin_hop ?? "?"}`, originHop ? attemptOf(originHop) : ""].filter(Boolean).join(", ");
  return [
    clock(t.start_us, opts),
    t.trace_id,
    paintOutcome(opts.paint ?? plain, t.outcome),
    String(t.hops.length),
    t.end_us ? formatDurationUs(t.end_us - t.start_us) : "open",
    first ? `${who(first.client)} ${addr(first.client)}` : "-",
    first?.original_destination ?? (last ? addr(last.server) : "-"),
    t.reset_origin ? `${originName(t.reset_origin)} (${where})` : "-",
  ];
}

export function renderTraceTable(stored: TraceJson[], opts: TraceRenderOptions = {}): string {
  if (stored.length === 0) return "no traces";
  const rows = [[`START (${zoneName(opts)})`, "TRACE", "OUTCOME", "HOPS", "DURATION", "FROM", "TO", "ORIGIN"]];
  for (const t of stored) rows.push(traceCells(t, opts));
  return formatColumns(rows);
}

/**
 * One trace on one line, the table's columns without alignment:
 * `10:00:00.123 t-1 RESET_BY_SERVER hops=3 12.4 ms app tt-a node(812) 10.88.0.2:40001 -> 10.88.0.3:8080 origin=sidecar tt-b haproxy(700) (hop 3)`.
 */
export function renderTraceLine(stored: TraceJson, opts: TraceRenderOptions = {}): string {
  const [start, id, outcome, hops, duration, from, to, origin] = traceCells(stored, opts);
  return `${start} ${id} ${outcome} hops=${hops} ${duration} ${from} -> ${to} origin=${origin}`;
}
