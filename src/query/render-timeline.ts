// `tcptrail timeline`: the events of a connection in time order, with the time
// since the first event and since the previous one.
import { formatColumns } from "./columns.js";
import { paintOutcome, plain, type Painter, type Tone } from "./render-color.js";
import type { EventJson } from "./event-json.js";
import type { TimelineJson } from "./client.js";
import { escapeStrings } from "../text/escape.js";
import { formatHumanTime, zoneName, type HumanTimeOptions } from "../text/human-time.js";

const ms = (us: number): string => (us / 1000).toFixed(3);

function detail(e: EventJson): string {
  const p = e.process ?? e.owner;
  const who = p ? `${p.comm}(${p.pid})` : "";
  switch (e.kind) {
    case "STATE_CHANGE":
      return `${e.old_state ?? "?"} → ${e.new_state ?? "?"}`;
    case "RESET_SENT":
      return `RST sent, reason ${e.reset_reason ?? "?"}${e.old_state ? ` in ${e.old_state}` : ""}${e.sock ? "" : " (no socket)"}`;
    case "RESET_RECEIVED":
      return "RST received";
    case "RETRANSMIT":
      return `retransmit${e.old_state ? ` in ${e.old_state}` : ""}`;
    case "SYSCALL_CONNECT":
      return `${who} connect(${e.target ?? "?"}) = ${e.ret}`;
    case "SYSCALL_ORIGINAL_DST":
      return `${who} SO_ORIGINAL_DST = ${e.target ?? "?"}`;
    case "SYSCALL_SHUTDOWN":
      return `${who} shutdown(fd ${e.fd}, ${["SHUT_RD", "SHUT_WR", "SHUT_RDWR"][e.shutdown_how ?? 0] ?? e.shutdown_how}) = ${e.ret}`;
    case "SYSCALL_ACCEPT":
    case "SYSCALL_CLOSE":
      return `${who} ${e.kind === "SYSCALL_ACCEPT" ? "accept" : "close"}(fd ${e.fd}) = ${e.ret}`;
    case "SOCKET_LINK":
      // A proxy's thread forwarded what it read: how a pooled upstream is tied to the downstream it serves.
      return `${who || "sidecar"} sent data read from ${e.linked_sock ?? "?"}${(e.link_sources ?? 1) > 1 ? ` (the last of ${e.link_sources} sockets it read: a guess)` : ""}`;
    case "GAP":
      return `GAP: ${e.lost ?? 0} events lost (${e.gap_reason ?? "unknown"})`;
    default:
      return "";
  }
}

export interface TimelineRenderOptions extends HumanTimeOptions {
  /** Colours resets, FINs and outcomes. Default: none. */
  paint?: Painter;
  /** "table" (default): aligned under a header; "compact": one plain line per event, the same fields. */
  layout?: "table" | "compact";
}

const FIN_STATES = new Set(["FIN_WAIT1", "CLOSE_WAIT", "LAST_ACK", "CLOSING"]);

/** Resets red, FINs sent or received yellow (src/observe/tcp-flags.ts reads flags the same way). */
function eventTone(e: EventJson): Tone | undefined {
  if (e.kind === "RESET_SENT" || e.kind === "RESET_RECEIVED") return "bad";
  if (e.kind === "STATE_CHANGE" && FIN_STATES.has(e.new_state ?? "")) return "warn";
  return undefined;
}

export function renderTimeline(stored: TimelineJson, opts: TimelineRenderOptions = {}): string {
  if (stored.events.length === 0) return "no events for this connection";
  const paint = opts.paint ?? plain;
  const tl = escapeStrings(stored);
  const t0 = tl.events[0]!.time_us;
  let prev = t0;
  const rows = [[`TIME (${zoneName(opts)})`, "+MS", "ΔMS", "NODE", "POD", "SOCK", "LOCAL", "REMOTE", "EVENT"]];
  for (const e of tl.events) {
    rows.push([
      formatHumanTime(e.time_us, opts),
      ms(e.time_us - t0),
      ms(e.time_us - prev),
      e.node,
      e.pod ?? "-",
      e.sock ?? "-",
      e.local ?? "-",
      e.remote ?? "-",
      ((d, tone) => (tone ? paint(tone, d) : d))(detail(e), eventTone(e)),
    ]);
    prev = e.time_us;
  }
  const head = tl.traces.length
    ? `${tl.events.length} events; trace${tl.traces.length > 1 ? "s" : ""} ${tl.traces.map((t) => `${t.trace_id} ${paintOutcome(paint, t.outcome)}`).join(", ")}`
    : `${tl.events.length} events; not part of a stored trace`;
  const tail =
    (tl.truncated ? "\n(truncated: more events match; narrow with --since/--until)" : "") +
    (tl.summarized ? "\n(summarized: raw events older than the store's event ring (--events-max-age) are rebuilt from the trace: open, first FIN or reset, close)" : "");
  const body = opts.layout === "compact" ? rows.slice(1).map((r) => r.join(" ")).join("\n") : formatColumns(rows);
  return `${head}\n${body}${tail}`;
}
