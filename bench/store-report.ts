// The store benches' results as printed: per store bench run a block, then
// one table line per run so sizes and traffic kinds compare at a glance; the
// soak's curve of file size over time.
import { DEFAULT_MAX_BYTES } from "../src/store/mod.js";
import { DEFAULT_EVENTS_MAX_BYTES } from "../src/store/sqlite/options.js";
import { DEFAULT_LAB_MIX } from "./lab-traffic.js";
import type { Latency, StoreBenchResult } from "./store-bench.js";
import type { SoakResult } from "./store-soak.js";

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const b = (n: number) => (n >= 100 ? fmt(n) : n.toFixed(1));
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n >= 10 ? n.toFixed(1) : n.toFixed(2));
const mib = (n: number) => `${fmt(n / 2 ** 20)} MiB`;
const mib1 = (n: number) => `${(n / 2 ** 20).toFixed(1)} MiB`;
/** "1M", "10M", "2.5k": sizes as the --sizes flag spells them. */
export const count = (n: number) => (n >= 1e6 && n % 1e5 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 100 === 0 ? `${n / 1e3}k` : String(n));

const TRAFFIC_NAME = {
  mesh: "mesh (3 hops: app → sidecar → sidecar → app)",
  churn: "churn (1 hop, server closes, half by RST)",
  lab: `lab (recorded lab scenarios replayed, ${mixText(DEFAULT_LAB_MIX)})`,
} as const;

/** "90% ok, 4% plain-to-mesh, ...": a mix's weights as shares. */
export function mixText(mix: Readonly<Record<string, number>>): string {
  const total = Object.values(mix).reduce((s, w) => s + w, 0);
  return Object.entries(mix)
    .filter(([, w]) => w > 0)
    .sort((a, b) => b[1] - a[1])
    .map(([name, w]) => `${Number(((w / total) * 100).toFixed(1))}% ${name}`)
    .join(", ");
}

function latencyLine(name: string, l: Latency): string {
  return `    ${name.padEnd(26)}${ms(l.firstMs).padStart(9)}${ms(l.p50Ms).padStart(9)}${ms(l.p99Ms).padStart(9)}   ${fmt(l.found / l.runs)} per query`;
}

/** The lines for one run. */
export function formatStoreRun(r: StoreBenchResult): string[] {
  const k = r.kinds;
  const h = r.horizon;
  const s = r.stream;
  return [
    `${TRAFFIC_NAME[r.traffic]}, ${fmt(r.connections)} connections at ${fmt(r.ratePerSec)}/s (copies of ${fmt(r.templateConnections)} stitched; raw events of the newest ${fmt(r.eventConnections)})`,
    `  store file               ${fmt(r.fileBytes)} bytes after the final seal and checkpoint = ${b(r.fileBytesPerConnection)} B/connection`,
    `    traces (stats)         ${b(r.traceBytesPerConnection)} B/connection (${fmt(k.traces.count)} traces, ${fmt(k.traces.bytes)} bytes)`,
    `    raw events (stats)     ${b(r.eventBytesPerConnection)} B/connection with events (${fmt(k.events.count)} events, ${fmt(k.events.bytes)} bytes, ${(k.events.count > 0 ? k.events.bytes / k.events.count : 0).toFixed(1)} B/event)`,
    `  JetStream events stream  ${b(s.bytesPerConnection)} B/connection (${s.bytesPerEvent.toFixed(1)} B/event × ${s.eventsPerConnection.toFixed(1)} events, batches of ${fmt(s.batchEvents)}; payload only)`,
    `  trace inserts            ${fmt(r.traceInserts.perSec)} traces/s (${fmt(r.traceInserts.perCpuSec)} per CPU-second), putTraces batches of ${fmt(r.traceBatch)}`,
    `  event inserts            ${fmt(r.eventInserts.perSec)} events/s (${fmt(r.eventInserts.perCpuSec)} per CPU-second), one putEvents per agent batch`,
    `  queries, ms ${String(r.queries.list.runs).padStart(2)} runs each     first      p50      p99`,
    latencyLine("listTraces since 1h", r.queries.list),
    latencyLine("  + pod", r.queries.listPod),
    latencyLine("  + failed outcomes", r.queries.listOutcome),
    latencyLine("getTrace (random id)", r.queries.getTrace),
    latencyLine("timeline (recent trace)", r.queries.timeline),
    latencyLine("put → queryable by ip:port", r.queries.putToQueryable),
    `  horizon at ${fmt(h.ratePerSec)} conns/s     ${mib(h.maxBytes)} / (${b(r.traceBytesPerConnection)} B × ${fmt(h.ratePerSec)}/s) = ${h.hours.toFixed(1)} h of traces (age limit ${fmt(h.maxAgeHours)} h); ` +
      `the raw-event ring's size limit lasts ${h.eventsMinutes.toFixed(0)} min (age limit ${fmt(h.eventsMaxAgeMinutes)} min); a day of traces and one ring: ${b(h.dayBytesPerConnection)} B/connection`,
    `  took                     ${fmt(r.totalSeconds)} s; writing ${fmt(r.fillSeconds)} s, of which generating connections ${fmt(r.fillSeconds - r.traceInserts.seconds - r.eventInserts.seconds)} s`,
  ];
}

/** One line per run under a header: the numbers issue 9's targets name. */
export function formatStoreTable(rs: readonly StoreBenchResult[]): string[] {
  const head = ["traffic", "conns", "file B/c", "trace B/c", "event B/c", "stream B/c", "traces/s", "list p99", "get p99", "timeline p99", "horizon h"];
  const rows = rs.map((r) => [
    r.traffic,
    count(r.connections),
    b(r.fileBytesPerConnection),
    b(r.traceBytesPerConnection),
    b(r.eventBytesPerConnection),
    b(r.stream.bytesPerConnection),
    fmt(r.traceInserts.perSec),
    ms(r.queries.list.p99Ms),
    ms(r.queries.getTrace.p99Ms),
    ms(r.queries.timeline.p99Ms),
    r.horizon.hours.toFixed(1),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
  return [line(head), ...rows.map(line)];
}


/** The soak's result as printed. */
export function formatSoak(r: SoakResult, maxRows = 12): string[] {
  const lines = [`bpftrace ${r.bpftrace}`];
  if (r.churn) {
    lines.push(`churn                        offered ${fmt(r.churn.offered)} conns/s for ${r.churn.seconds} s: achieved ${fmt(r.churn.achieved)}/s, ${fmt(r.churn.completed)} connections (${fmt(r.churn.aborted)} by RST), ${fmt(r.churn.failed)} failed`);
  }
  lines.push(
    r.firstTrace
      ? `first trace                  ${r.firstTrace.id}, listed ${r.firstTrace.afterS.toFixed(1)} s after the churn started; at the end: ${r.firstStillQueryable ? "still queryable" : "GONE"}`
      : "first trace                  none listed during the churn",
  );
  if (r.settled === false) lines.push("                             (the consumer was still storing when the settle timeout passed)");
  const s = r.stats;
  if (s) {
    const t = s.kinds.traces;
    const e = s.kinds.events;
    const perTrace = (n: number) => (t.count > 0 ? (n / t.count).toFixed(1) : "-");
    lines.push(
      `store (stats after stop)     ${fmt(t.count)} traces: ${perTrace(t.bytes)} B/connection; ${fmt(e.count)} raw events: ${perTrace(e.bytes)} B/connection (${e.count > 0 ? (e.bytes / e.count).toFixed(1) : "-"} B/event); ` +
        `file ${perTrace(s.fileBytes)} B/connection`,
    );
  }
  const traces = r.options.tracesMaxSize ?? DEFAULT_MAX_BYTES;
  const events = r.options.eventsMaxSize ?? DEFAULT_EVENTS_MAX_BYTES;
  lines.push(`file size                    max ${mib1(r.maxBytes)} of the limits' ${mib1(r.limitBytes)} (traces ${mib1(traces)} + raw events ${mib1(events)}; retention's stated margin: 5% + 8 MiB + one interval (10 s) of writes)`);
  const step = Math.max(1, Math.ceil(r.sizes.length / maxRows));
  const rows = r.sizes.filter((_, i) => i % step === 0 || i === r.sizes.length - 1);
  for (const x of rows) lines.push(`  ${x.atS.toFixed(0).padStart(6)} s  ${mib1(x.bytes).padStart(12)}${x.afterStop ? "  (after run stopped)" : ""}`);
  if (r.exit) lines.push(`stop                         ${r.exit.killed ? "killed after the stop timeout" : `exit ${r.exit.exitCode ?? r.exit.signal}`} ${fmt(r.exit.stopMs)} ms after SIGINT`);
  if (r.error) lines.push(`ERROR: ${r.error}`);
  return lines;
}
