// The one JSON shape of a trace, used by the HTTP API, `tcptrail traces -o json`
// and `why`: snake_case, enums by short name, unknowns as null (never "" or 0,
// which are real values for some fields).
import { formatEndpoint, legName, outcomeName, reasonName, roleName, v1, type HopEndpoint, type Trace, type TraceInit } from "../model/mod.js";
import { formatTimeUs } from "./time.js";

export interface EndpointJson {
  ip: string | null;
  port: number | null;
  pod: string | null;
  netns: number | null;
  role: string | null;
  leg: string | null;
  pid: number | null;
  comm: string | null;
  /** sk_uid; null when this end was not traced. */
  uid: number | null;
  node: string | null;
  socket_id: string | null;
  /** The pod's labels (key → value, keys sorted); null when it has none or is not known to the runtime. */
  labels: Record<string, string> | null;
}

export interface HopJson {
  /** The hop's number along the chain, 1-based (what `why` and every message call "hop N"). */
  index: number;
  client: EndpointJson;
  server: EndpointJson;
  /** "ip:port" the client meant to reach before REDIRECT. */
  original_destination: string | null;
  /** "client" | "server" | null */
  opened_by: string | null;
  first_fin_by: string | null;
  reset_by: string | null;
  reset_reason: string | null;
  /**
   * When the steps above happened, wall µs from the kernel's events (the SYN,
   * the first FIN, the RST); null when not seen, or for a trace stored before
   * step times were recorded.
   */
  opened_us: number | null;
  first_fin_us: number | null;
  reset_us: number | null;
  outcome: string;
  /** How this hop follows the previous one: "redirect", "proxy", "pooled" or null. */
  link: string | null;
  /** Which connect attempt of a retrying proxy this hop is, 1-based (1 when not retried). */
  attempt: number;
  /**
   * How many attempts that proxy made for the same downstream (1 when not
   * retried); null when unknown (a retry stored before totals were recorded).
   */
  attempts: number | null;
  start: string | null;
  end: string | null;
  /**
   * Its connection served other traces too (a sidecar's pooled upstream, or a
   * hop behind one): its end events are this trace's only within use_start..use_end.
   */
  shared: boolean;
  /** Shared hops: the interval this trace used the connection (use_end null while in use). */
  use_start: string | null;
  use_end: string | null;
  use_start_us: number | null;
  use_end_us: number | null;
  /** Shared hops: "CERTAIN" or "AMBIGUOUS" (a guessed link: another request may have been its user). */
  link_confidence: string | null;
}

/** UPSTREAM_IDLE_CLOSE_RACE: what the race was made of (see trace.proto IdleCloseRace). */
export interface RaceJson {
  /** How long the pooled connection was idle before the peer's FIN reached it, µs; null when unknown. */
  idle_us: number | null;
  /** Reuse minus FIN arrival, µs: negative when they crossed. */
  gap_us: number;
  /** The RST's kernel reason; null when only its receipt was seen. */
  reset_reason: string | null;
  /** HopJson.index of the pooled connection. */
  shared_hop: number | null;
  /** Who closed first behind it: HopJson.index and end. */
  first_close_hop: number | null;
  first_close_by: string | null;
}

/** An agent gap overlapped the connection (see trace.proto GapOverlap): its outcome is what was seen, events may be missing. */
export interface GapOverlapJson {
  gaps: number;
  start: string | null;
  end: string | null;
  start_us: number;
  end_us: number;
  /** Kernel events counted lost in the gaps. */
  lost: number;
  /** Events estimated hidden where nobody could count them (a bpftrace restart); an estimate, never a count. */
  estimated_lost: number;
}

export interface TraceJson {
  trace_id: string;
  outcome: string;
  explanation: string;
  start: string | null;
  /** Null while the connection is open. */
  end: string | null;
  start_us: number;
  end_us: number;
  duration_ms: number | null;
  /**
   * The endpoint where the failure began. For RESET_UNTRACED: the RST's sender
   * as seen on the wire (role NETWORK, no process), its receiver in reset_receiver.
   */
  reset_origin: EndpointJson | null;
  /** HopJson.index of the hop where the failure began. */
  reset_origin_hop: number | null;
  /** RESET_UNTRACED: the traced socket that received the RST. */
  reset_receiver: EndpointJson | null;
  /** COMPLETED: the hop (HopJson.index) whose FIN came first, and which end of it sent it. */
  first_close_hop: number | null;
  first_close_by: string | null;
  /** UPSTREAM_IDLE_CLOSE_RACE only. */
  race: RaceJson | null;
  /** Null when no agent gap overlapped the connection. */
  gap_overlap: GapOverlapJson | null;
  hops: HopJson[];
}

const orNull = <T>(v: T | null | undefined, none: T): T | null => (v === undefined || v === null || v === none ? null : v);

/** "CERTAIN", "AMBIGUOUS"; null when unset. */
function confidenceName(v: number | null | undefined): string | null {
  if (!v) return null;
  const name = v1.LinkConfidence[v] as string | undefined;
  return name ? name.replace(/^LINK_CONFIDENCE_/, "") : String(v);
}

export function endpointToJson(ep: HopEndpoint | null | undefined): EndpointJson {
  const e = ep ?? {};
  const traced = Boolean(e.socketId);
  return {
    ip: orNull(e.ip, ""),
    port: orNull(e.port, 0),
    pod: orNull(e.pod, ""),
    netns: orNull((e.netns ?? 0), 0),
    role: e.role ? roleName(e.role) : null,
    leg: e.leg ? legName(e.leg) : null,
    pid: orNull(e.pid, 0),
    comm: orNull(e.comm, ""),
    uid: traced || e.uid ? (e.uid ?? 0) : null,
    node: orNull(e.node, ""),
    socket_id: orNull(e.socketId, ""),
    labels: labelsToJson(e.labels),
  };
}

function labelsToJson(labels: { [k: string]: string } | null | undefined): Record<string, string> | null {
  if (labels == null) return null;
  const keys = Object.keys(labels);
  if (keys.length === 0) return null;
  const out: Record<string, string> = {};
  for (const k of keys.sort()) out[k] = labels[k]!;
  return out;
}

/** Labels compactly, as a selector reads them: "app=web,tier=front" ("" when none). */
export function formatLabels(labels: Readonly<Record<string, string>> | null | undefined): string {
  if (labels == null) return "";
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(",");
}

/** Each labelled pod of a trace once, in chain order: "shop/web {app=web} shop/db {app=db}" ("" when none). */
export function traceLabelsLine(t: Pick<TraceJson, "hops">): string {
  const seen = new Map<string, string>();
  for (const h of t.hops) {
    for (const ep of [h.client, h.server]) {
      const l = formatLabels(ep.labels);
      if (l !== "" && ep.pod && !seen.has(ep.pod)) seen.set(ep.pod, l);
    }
  }
  return [...seen].map(([pod, l]) => `${pod} {${l}}`).join("  ");
}

const isEmptyEndpoint = (ep: HopEndpoint | null | undefined): boolean => !ep || (!ep.ip && !ep.pod && !ep.socketId);

/**
 * Traces stored before hops were numbered from 1 have a hop 0 (and hand-built
 * ones may have no numbers): they get the numbering everything else uses, so
 * `why` never mixes the two.
 */
function hopNumberShift(t: Trace | TraceInit): number {
  const hops = t.hops ?? [];
  return hops.length > 0 && hops.some((h) => !h.index) ? 1 : 0;
}

export function traceToJson(t: Trace | TraceInit): TraceJson {
  const startUs = (t.startUs ?? 0);
  const endUs = (t.endUs ?? 0);
  const origin = isEmptyEndpoint(t.resetOrigin) ? null : endpointToJson(t.resetOrigin);
  const receiver = isEmptyEndpoint(t.resetReceiver) ? null : endpointToJson(t.resetReceiver);
  const shift = hopNumberShift(t);
  const firstClose = (t.firstCloseHop ?? 0) > 0 && t.firstCloseBy ? t.firstCloseHop! : null;
  return {
    trace_id: t.traceId ?? "",
    outcome: outcomeName(t.outcome),
    explanation: t.explanation ?? "",
    start: formatTimeUs(startUs),
    end: formatTimeUs(endUs),
    start_us: startUs,
    end_us: endUs,
    duration_ms: endUs && startUs ? (endUs - startUs) / 1000 : null,
    reset_origin: origin,
    reset_origin_hop: origin ? (t.resetOriginHop ?? 0) + shift : null,
    reset_receiver: receiver,
    first_close_hop: firstClose,
    first_close_by: firstClose ? (t.firstCloseBy ?? null) : null,
    race: t.race
      ? {
          idle_us: orNull(Number(t.race.idleUs ?? 0), 0),
          gap_us: Number(t.race.gapUs ?? 0),
          reset_reason: t.race.resetReason ? reasonName(t.race.resetReason) : null,
          shared_hop: t.race.sharedHop ? t.race.sharedHop + shift : null,
          first_close_hop: t.race.firstCloseHop && t.race.firstCloseBy ? t.race.firstCloseHop + shift : null,
          first_close_by: t.race.firstCloseHop && t.race.firstCloseBy ? t.race.firstCloseBy : null,
        }
      : null,
    gap_overlap: t.gapOverlap?.gaps
      ? {
          gaps: t.gapOverlap.gaps,
          start: formatTimeUs(Number(t.gapOverlap.startUs ?? 0)),
          end: formatTimeUs(Number(t.gapOverlap.endUs ?? 0)),
          start_us: Number(t.gapOverlap.startUs ?? 0),
          end_us: Number(t.gapOverlap.endUs ?? 0),
          lost: Number(t.gapOverlap.lost ?? 0),
          estimated_lost: Number(t.gapOverlap.estimatedLost ?? 0),
        }
      : null,
    hops: (t.hops ?? []).map((h, i) => ({
      index: shift ? (h.index ?? i) + 1 : (h.index ?? 0),
      client: endpointToJson(h.client),
      server: endpointToJson(h.server),
      original_destination: h.originalDestination?.ip ? formatEndpoint(h.originalDestination) : null,
      opened_by: orNull(h.openedBy, ""),
      first_fin_by: orNull(h.firstFinBy, ""),
      reset_by: orNull(h.resetBy, ""),
      reset_reason: h.resetReason ? reasonName(h.resetReason) : null,
      opened_us: orNull(Number(h.openedUs ?? 0), 0),
      first_fin_us: orNull(Number(h.firstFinUs ?? 0), 0),
      reset_us: orNull(Number(h.resetUs ?? 0), 0),
      outcome: outcomeName(h.outcome),
      link: orNull(h.link, ""),
      // Traces stored before attempts were recorded carry 0: they were first
      // (and only) attempts, since each retry then made a trace of its own.
      attempt: h.attempt || 1,
      attempts: h.attempts || (h.attempt ? null : 1),
      start: formatTimeUs((h.startUs ?? 0)),
      end: formatTimeUs((h.endUs ?? 0)),
      shared: Boolean(h.shared),
      use_start: h.shared ? formatTimeUs(Number(h.useStartUs ?? 0)) : null,
      use_end: h.shared ? formatTimeUs(Number(h.useEndUs ?? 0)) : null,
      use_start_us: h.shared ? orNull(Number(h.useStartUs ?? 0), 0) : null,
      use_end_us: h.shared ? orNull(Number(h.useEndUs ?? 0), 0) : null,
      link_confidence: h.shared ? confidenceName(h.linkConfidence) : null,
    })),
  };
}
