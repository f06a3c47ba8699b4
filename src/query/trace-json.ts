// The one JSON shape of a trace, used by the HTTP API, `tcptrail traces -o json`
// and `why`: snake_case, enums by short name, unknowns as null (never "" or 0,
// which are real values for some fields).
import { formatEndpoint, legName, outcomeName, reasonName, roleName, type HopEndpoint, type Trace, type TraceInit } from "../model/mod.js";
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
  hops: HopJson[];
}

const orNull = <T>(v: T | null | undefined, none: T): T | null => (v === undefined || v === null || v === none ? null : v);

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
  };
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
    hops: (t.hops ?? []).map((h, i) => ({
      index: shift ? (h.index ?? i) + 1 : (h.index ?? 0),
      client: endpointToJson(h.client),
      server: endpointToJson(h.server),
      original_destination: h.originalDestination?.ip ? formatEndpoint(h.originalDestination) : null,
      opened_by: orNull(h.openedBy, ""),
      first_fin_by: orNull(h.firstFinBy, ""),
      reset_by: orNull(h.resetBy, ""),
      reset_reason: h.resetReason ? reasonName(h.resetReason) : null,
      outcome: outcomeName(h.outcome),
      link: orNull(h.link, ""),
      // Traces stored before attempts were recorded carry 0: they were first
      // (and only) attempts, since each retry then made a trace of its own.
      attempt: h.attempt || 1,
      attempts: h.attempts || (h.attempt ? null : 1),
      start: formatTimeUs((h.startUs ?? 0)),
      end: formatTimeUs((h.endUs ?? 0)),
    })),
  };
}
