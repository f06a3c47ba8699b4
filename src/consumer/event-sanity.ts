// What the consumer accepts from the events subject beyond what decodeBatch
// already checks (framing, node, seq order): values no agent can produce are
// hostile or corrupt, and must not reach the store or the stitcher.
import { EventKind, ResetReason, Role, SidecarLeg, TcpState, type ConnEvent, type Endpoint } from "../model/mod.js";

const MAX_IP = 45; // the longest textual IPv6 (with an embedded IPv4)
const MAX_SOCK = 32; // a kernel pointer in hex, with room to spare
const MAX_NAME = 253;
const MAX_COMM = 64;
// Wall clock: 2000-01-01 .. 2200-01-01 in µs; anything outside is nonsense.
const MIN_TIME_US = 946_684_800_000_000;
const MAX_TIME_US = 7_258_118_400_000_000;

// Kernel ns are exact bigints (decodeBatch made them so, within u64); the store
// keeps them in SQLite's int64, so the top half of u64 (292+ years of uptime)
// is no real clock either.
const MAX_TS_NS = (1n << 63n) - 1n;
const MAX_OFFSET_NS = BigInt(Number.MAX_SAFE_INTEGER);

const inEnum = (v: number, max: number): boolean => Number.isInteger(v) && v >= 0 && v <= max;
const safe = (v: number): boolean => Number.isSafeInteger(v) && v >= 0;
const maxOf = (e: object): number => Math.max(...Object.values(e).filter((v): v is number => typeof v === "number"));

const MAX_KIND = maxOf(EventKind);
const MAX_STATE = maxOf(TcpState);
const MAX_REASON = maxOf(ResetReason);
const MAX_ROLE = maxOf(Role);
const MAX_LEG = maxOf(SidecarLeg);

function saneEndpoint(ep: Endpoint | null | undefined): boolean {
  if (!ep) return true;
  return (ep.ip ?? "").length <= MAX_IP && inEnum(ep.port ?? 0, 65535);
}

/** Why `ev` cannot be a real event, or null when it can. */
export function insaneReason(ev: ConnEvent): string | null {
  // The store keys an event by its stream and seq: protobufjs rounds a uint64
  // past 2^53, so two such seqs could collide and one event vanish as a "duplicate".
  if (!safe(ev.seq) || ev.seq === 0) return "seq";
  if (!inEnum(ev.kind, MAX_KIND) || ev.kind === 0) return "kind";
  if (typeof ev.tsNs !== "bigint" || ev.tsNs <= 0n || ev.tsNs > MAX_TS_NS) return "ts_ns";
  if (!safe(ev.timeUs) || (ev.timeUs !== 0 && (ev.timeUs < MIN_TIME_US || ev.timeUs > MAX_TIME_US))) return "time_us";
  if (!safe(ev.netns) || !safe(ev.lost)) return "uint64";
  if (typeof ev.gapStartNs !== "bigint" || ev.gapStartNs < 0n || ev.gapStartNs > MAX_TS_NS) return "gap_start_ns";
  // The store keeps the gap start as an offset from the event's own ts (a
  // double, exact to 2^53): one farther away makes every write of the batch
  // throw, and the consumer would retry it forever. No gap spans 104 days.
  if (ev.gapStartNs !== 0n && (ev.gapStartNs - ev.tsNs > MAX_OFFSET_NS || ev.tsNs - ev.gapStartNs > MAX_OFFSET_NS)) return "gap_start_ns";
  if (ev.sock.length > MAX_SOCK || !/^[0-9a-f]*$/.test(ev.sock)) return "sock";
  // A SOCKET_LINK's other socket: the stitcher and the store key sockets by it as by sock.
  if (ev.linkedSock.length > MAX_SOCK || !/^[0-9a-f]*$/.test(ev.linkedSock)) return "linked_sock";
  if (ev.pod.length > MAX_NAME) return "pod";
  if (!saneEndpoint(ev.local) || !saneEndpoint(ev.remote) || !saneEndpoint(ev.target)) return "endpoint";
  if (!inEnum(ev.oldState, MAX_STATE) || !inEnum(ev.newState, MAX_STATE)) return "state";
  if (!inEnum(ev.resetReason, MAX_REASON) || !inEnum(ev.role, MAX_ROLE) || !inEnum(ev.leg, MAX_LEG)) return "enum";
  if ((ev.process?.comm ?? "").length > MAX_COMM || (ev.owner?.comm ?? "").length > MAX_COMM) return "comm";
  if (ev.gapReason.length > MAX_NAME) return "gap_reason";
  return null;
}

export interface SanityResult {
  /** The events that can be real, in their original order. */
  events: ConnEvent[];
  rejected: number;
  /** The first rejection's reason, for the log. */
  firstReason: string | null;
}

/** Keep the plausible events of a decoded batch. Allocates only when something is rejected. */
export function saneEvents(events: ConnEvent[]): SanityResult {
  let kept: ConnEvent[] | null = null;
  let firstReason: string | null = null;
  for (let i = 0; i < events.length; i++) {
    const reason = insaneReason(events[i]!);
    if (reason === null) {
      kept?.push(events[i]!);
      continue;
    }
    if (!kept) kept = events.slice(0, i);
    firstReason ??= reason;
  }
  return kept ? { events: kept, rejected: events.length - kept.length, firstReason } : { events, rejected: 0, firstReason };
}
