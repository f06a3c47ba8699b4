// How `observe` prints one event: a compact line for people, or one JSON object
// per line (snake_case, enums by their short names) for jq and scripts.
import {
  EventKind,
  formatEndpoint,
  kindName,
  legName,
  reasonName,
  roleName,
  stateName,
  type ConnEvent,
} from "../model/mod.js";

export type OutputFormat = "compact" | "json";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["compact", "json"];

export interface CompactOptions {
  /** Print times in UTC instead of the local zone. Default false. */
  utc?: boolean;
}

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

/** "23:41:07.123456" from microseconds since the epoch. */
export function formatClock(timeUs: number, utc = false): string {
  const d = new Date(Math.floor(timeUs / 1000));
  const us = ((timeUs % 1_000_000) + 1_000_000) % 1_000_000;
  const [h, m, s] = utc ? [d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds()] : [d.getHours(), d.getMinutes(), d.getSeconds()];
  return `${pad(h)}:${pad(m)}:${pad(s)}.${pad(us, 6)}`;
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
  const parts = [formatClock(ev.timeUs, opts.utc), `${node}/${ev.pod || "-"}`, kindName(ev.kind)];
  const K = EventKind;
  if (ev.kind === K.EVENT_KIND_GAP) {
    parts.push(`lost=${ev.lost}`);
    if (ev.gapReason) parts.push(`reason=${ev.gapReason}`);
    if (ev.gapStartNs) parts.push(`span=${((ev.tsNs - ev.gapStartNs) / 1e6).toFixed(3)}ms`);
    return parts.join(" ");
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
  return parts.join(" ");
}

type JsonEndpoint = { ip: string; port: number } | null;
type JsonProcess = { pid: number; tid: number; comm: string } | null;

const jsonEndpoint = (e: ConnEvent["local"]): JsonEndpoint => (e ? { ip: e.ip ?? "", port: e.port ?? 0 } : null);
const jsonProcess = (p: ConnEvent["process"]): JsonProcess =>
  p ? { pid: p.pid ?? 0, tid: p.tid ?? 0, comm: p.comm ?? "" } : null;

/** Every field of the event, snake_case, with enums as short names and the node added. */
export function toJsonRecord(node: string, ev: ConnEvent): Record<string, unknown> {
  return {
    node,
    seq: ev.seq,
    kind: kindName(ev.kind),
    ts_ns: ev.tsNs,
    time_us: ev.timeUs,
    time: new Date(Math.floor(ev.timeUs / 1000)).toISOString(),
    sock: ev.sock,
    netns: ev.netns,
    pod: ev.pod,
    family: ev.family,
    local: jsonEndpoint(ev.local),
    remote: jsonEndpoint(ev.remote),
    old_state: stateName(ev.oldState),
    new_state: stateName(ev.newState),
    reset_reason: reasonName(ev.resetReason),
    uid: ev.uid,
    process: jsonProcess(ev.process),
    owner: jsonProcess(ev.owner),
    role: roleName(ev.role),
    leg: legName(ev.leg),
    ret: ev.ret,
    target: jsonEndpoint(ev.target),
    shutdown_how: ev.shutdownHow,
    fd: ev.fd,
    lost: ev.lost,
    gap_reason: ev.gapReason,
    gap_start_ns: ev.gapStartNs,
  };
}

export function formatEvent(format: OutputFormat, node: string, ev: ConnEvent, opts: CompactOptions = {}): string {
  return format === "json" ? JSON.stringify(toJsonRecord(node, ev)) : formatCompact(node, ev, opts);
}
