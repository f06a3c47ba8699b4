// How `observe` prints one event: a compact line for people, or one JSON object
// per line (snake_case, enums by their short names) for jq and scripts.
import {
  EventKind,
  formatEndpoint,
  kindName,
  legName,
  nsBetween,
  reasonName,
  roleName,
  stateName,
  type ConnEvent,
} from "../model/mod.js";
import { eventToJson, plain, type EventJson, type Painter, type Tone } from "../query/mod.js";
import { tcpFlagOf } from "./tcp-flags.js";
import { escapeControl } from "../text/escape.js";
import { formatHumanTime, type HumanTimeOptions } from "../text/human-time.js";

/** observe prints no table: a stream's columns would need every line before the first. */
export type OutputFormat = "compact" | "json";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["compact", "json"];

export interface CompactOptions {
  /** Print times in the local zone instead of UTC (every human output's rule). Default false. */
  local?: boolean;
  /** @deprecated UTC is the default now; kept so older callers compile. Ignored. */
  utc?: boolean;
  /** Colours the event kind: resets red, FINs yellow, openings green, gaps dim. Default: none. */
  paint?: Painter;
}

const FLAG_TONES: Readonly<Record<string, Tone>> = { RST: "bad", FIN: "warn", SYN: "good" };

/**
 * The line from its parts: each escaped on its own (one event is one line:
 * node, pod and comm come from the kernel and the network), then the kind
 * (parts[2]) painted, so the only escape bytes left are the colour's.
 */
function line(parts: string[], ev: ConnEvent, paint: Painter): string {
  const escaped = parts.map(escapeControl);
  const flag = tcpFlagOf(ev);
  const tone = ev.kind === EventKind.EVENT_KIND_GAP ? "dim" : flag ? FLAG_TONES[flag] : undefined;
  if (tone) escaped[2] = paint(tone, escaped[2]!);
  return escaped.join(" ");
}

/**
 * "23:41:07.123456" from microseconds since the epoch, UTC unless `local`.
 * Options, not a boolean: the boolean used to mean "UTC", and an old caller
 * passing `true` must fail to compile rather than silently get local time.
 */
export function formatClock(timeUs: number, opts: Pick<HumanTimeOptions, "local"> = {}): string {
  return formatHumanTime(timeUs, { local: opts.local ?? false });
}

const SHUT_HOW = ["SHUT_RD", "SHUT_WR", "SHUT_RDWR"];

function proc(p: ConnEvent["process"]): string | undefined {
  if (!p || !p.pid) return undefined;
  return p.tid && p.tid !== p.pid ? `${p.comm || "?"}(${p.pid}/${p.tid})` : `${p.comm || "?"}(${p.pid})`;
}

/**
 * One line, e.g.
 * `23:41:07.123456 node/pod-a RESET_SENT 10.88.0.3:8080 -> 10.88.0.2:41234 reason=NO_SOCKET owner=haproxy(1234) uid=1337 role=SIDECAR/UPSTREAM`
 */
export function formatCompact(node: string, ev: ConnEvent, opts: CompactOptions = {}): string {
  const parts = [formatClock(ev.timeUs, { local: opts.local ?? false }), `${node}/${ev.pod || "-"}`, kindName(ev.kind)];
  const K = EventKind;
  if (ev.kind === K.EVENT_KIND_GAP) {
    parts.push(`lost=${ev.lost}`);
    if (ev.gapReason) parts.push(`reason=${ev.gapReason}`);
    if (ev.gapStartNs) parts.push(`span=${(nsBetween(ev.gapStartNs, ev.tsNs) / 1e6).toFixed(3)}ms`);
    return line(parts, ev, opts.paint ?? plain);
  }
  if (ev.local?.ip || ev.remote?.ip) parts.push(`${formatEndpoint(ev.local)} -> ${formatEndpoint(ev.remote)}`);
  switch (ev.kind) {
    case K.EVENT_KIND_STATE_CHANGE:
      parts.push(`state=${stateName(ev.oldState)}->${stateName(ev.newState)}`);
      break;
    case K.EVENT_KIND_RESET_SENT:
      parts.push(`reason=${reasonName(ev.resetReason)}`);
      if (ev.oldState) parts.push(`state=${stateName(ev.oldState)}`);
      break;
    case K.EVENT_KIND_RETRANSMIT:
      if (ev.oldState) parts.push(`state=${stateName(ev.oldState)}`);
      break;
    case K.EVENT_KIND_SYSCALL_CONNECT:
    case K.EVENT_KIND_SYSCALL_ORIGINAL_DST:
      if (ev.target?.ip) parts.push(`target=${formatEndpoint(ev.target)}`);
      break;
    case K.EVENT_KIND_SYSCALL_SHUTDOWN:
      parts.push(`how=${SHUT_HOW[ev.shutdownHow] ?? ev.shutdownHow}`);
      break;
    case K.EVENT_KIND_SOCKET_LINK: {
      // Which socket the data sent on this one came from, and who forwarded it.
      parts.push(`linked=${ev.linkedSock || "?"}`, `sources=${ev.linkSources}`);
      const p = proc(ev.process);
      if (p) parts.push(`process=${p}`);
      break;
    }
  }
  const isSyscall = ev.kind >= K.EVENT_KIND_SYSCALL_CONNECT && ev.kind <= K.EVENT_KIND_SYSCALL_ORIGINAL_DST;
  if (isSyscall) {
    parts.push(`fd=${ev.fd}`, `ret=${ev.ret}`);
    const p = proc(ev.process);
    if (p) parts.push(`process=${p}`);
  }
  const owner = proc(ev.owner);
  if (owner) parts.push(`owner=${owner}`);
  parts.push(`uid=${ev.uid}`);
  if (ev.role) parts.push(ev.leg ? `role=${roleName(ev.role)}/${legName(ev.leg)}` : `role=${roleName(ev.role)}`);
  return line(parts, ev, opts.paint ?? plain);
}

/** The JSON shape of an event: the same one the query API serves (src/query/event-json.ts). */
export function toJsonRecord(node: string, ev: ConnEvent): EventJson {
  return eventToJson(node, ev);
}

export function formatEvent(format: OutputFormat, node: string, ev: ConnEvent, opts: CompactOptions = {}): string {
  return format === "json" ? JSON.stringify(toJsonRecord(node, ev)) : formatCompact(node, ev, opts);
}
