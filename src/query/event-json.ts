// The JSON shape of one connection event (timelines, the live event stream).
// Fields that do not apply to the event's kind are null, so every line has
// the same keys and `jq` filters never trip on a missing one. Kernel ns go out
// as decimal strings, as protobuf's JSON mapping writes 64-bit integers: past
// 2^53 ns (104 days of uptime) a JSON number would be rounded by its reader.
import {
  EventKind,
  formatEndpoint,
  kindName,
  legName,
  reasonName,
  roleName,
  stateName,
  type ConnEvent,
  type ConnEventInit,
  type Process,
} from "../model/mod.js";
import { formatTimeUs } from "./time.js";

export interface ProcessJson {
  pid: number;
  tid: number;
  comm: string;
}

export interface EventJson {
  node: string;
  seq: number;
  kind: string;
  time: string | null;
  time_us: number;
  /** Kernel ns since boot, exact decimal. */
  ts_ns: string;
  sock: string | null;
  netns: number | null;
  pod: string | null;
  family: number;
  /** "ip:port" */
  local: string | null;
  remote: string | null;
  old_state: string | null;
  new_state: string | null;
  reset_reason: string | null;
  uid: number;
  process: ProcessJson | null;
  owner: ProcessJson | null;
  role: string | null;
  leg: string | null;
  ret: number | null;
  fd: number | null;
  target: string | null;
  shutdown_how: number | null;
  lost: number | null;
  gap_reason: string | null;
  /** Kernel ns, exact decimal. */
  gap_start_ns: string | null;
  /** GAP: the agent's estimate of the events it could not count (a bpftrace restart), never an exact count; null when none. */
  estimated_lost: number | null;
  /** SOCKET_LINK: the socket the thread read what it sent on `sock`. */
  linked_sock: string | null;
  /** SOCKET_LINK: sockets read since the thread's previous send (1: the link is certain). */
  link_sources: number | null;
}

function processToJson(p: Process | null | undefined): ProcessJson | null {
  if (!p || (!p.pid && !p.comm)) return null;
  return { pid: p.pid ?? 0, tid: p.tid ?? 0, comm: p.comm ?? "" };
}

const SYSCALLS = new Set<number>([
  EventKind.EVENT_KIND_SYSCALL_CONNECT,
  EventKind.EVENT_KIND_SYSCALL_ACCEPT,
  EventKind.EVENT_KIND_SYSCALL_CLOSE,
  EventKind.EVENT_KIND_SYSCALL_SHUTDOWN,
  EventKind.EVENT_KIND_SYSCALL_ORIGINAL_DST,
]);

export function eventToJson(node: string, e: ConnEvent | ConnEventInit): EventJson {
  const kind = e.kind ?? 0;
  const syscall = SYSCALLS.has(kind);
  const gap = kind === EventKind.EVENT_KIND_GAP;
  const link = kind === EventKind.EVENT_KIND_SOCKET_LINK;
  return {
    node,
    seq: (e.seq ?? 0),
    kind: kindName(kind),
    time: formatTimeUs((e.timeUs ?? 0)),
    time_us: (e.timeUs ?? 0),
    ts_ns: e.tsNs.toString(),
    sock: e.sock || null,
    netns: (e.netns ?? 0) || null,
    pod: e.pod || null,
    family: e.family ?? 0,
    local: e.local?.ip ? formatEndpoint(e.local) : null,
    remote: e.remote?.ip ? formatEndpoint(e.remote) : null,
    old_state: e.oldState ? stateName(e.oldState) : null,
    new_state: e.newState ? stateName(e.newState) : null,
    reset_reason: e.resetReason ? reasonName(e.resetReason) : null,
    uid: e.uid ?? 0,
    process: processToJson(e.process),
    owner: processToJson(e.owner),
    role: e.role ? roleName(e.role) : null,
    leg: e.leg ? legName(e.leg) : null,
    ret: syscall ? (e.ret ?? 0) : null,
    fd: syscall ? (e.fd ?? 0) : null,
    target: e.target?.ip ? formatEndpoint(e.target) : null,
    shutdown_how: kind === EventKind.EVENT_KIND_SYSCALL_SHUTDOWN ? (e.shutdownHow ?? 0) : null,
    lost: gap ? (e.lost ?? 0) : null,
    gap_reason: gap ? e.gapReason || null : null,
    gap_start_ns: gap ? (e.gapStartNs ?? 0n).toString() : null,
    estimated_lost: gap ? (e.estimatedLost ?? null) : null,
    linked_sock: link ? e.linkedSock || null : null,
    link_sources: link ? (e.linkSources ?? 0) : null,
  };
}
