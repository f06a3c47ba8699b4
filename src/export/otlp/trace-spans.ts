// One finished tcptrail trace as OpenTelemetry spans: a span per traced
// socket (each hop's client socket a CLIENT span, its server socket a SERVER
// span), with the kernel-derived times of its hop, parented the way the
// connection was caused: a hop's SERVER span under its CLIENT span, and a
// proxy's dialed leg under the downstream leg it accepted (so a sidecar's
// upstream CLIENT span is a child of its outbound listener's SERVER span).
// Where tcptrail only guessed which downstream a pooled upstream served
// (LinkConfidence AMBIGUOUS), the guess is a span link, never a parent: a
// backend then shows it as related, not as caused.
//
// The spans are plain ReadableSpan objects handed to the SDK's exporter:
// the SDK's tracer would stamp its own clock and random ids, while these
// carry the kernel's times and ids derived from tcptrail's (ids.ts).
import { SpanKind, SpanStatusCode, TraceFlags, type Attributes, type HrTime, type Link, type SpanContext } from "@opentelemetry/api";
import type { Resource } from "@opentelemetry/resources";
import type { ReadableSpan, TimedEvent } from "@opentelemetry/sdk-trace-base";
import { Role, legName, outcomeName, reasonName, roleName, v1, type HopEndpoint, type Trace, type TraceInit } from "../../model/mod.js";
import { FAILURE_OUTCOMES } from "../../trace/mod.js";
import { hopParents } from "./hop-parents.js";
import { otlpSpanId, otlpTraceId } from "./ids.js";
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_CLIENT_PORT,
  ATTR_ERROR_TYPE,
  ATTR_K8S_NAMESPACE_NAME,
  ATTR_K8S_NODE_NAME,
  ATTR_K8S_POD_NAME,
  ATTR_NETWORK_PEER_ADDRESS,
  ATTR_NETWORK_PEER_PORT,
  ATTR_NETWORK_TRANSPORT,
  ATTR_NETWORK_TYPE,
  ATTR_PROCESS_EXECUTABLE_NAME,
  ATTR_PROCESS_PID,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  NETWORK_TRANSPORT_VALUE_TCP,
  NETWORK_TYPE_VALUE_IPV4,
  NETWORK_TYPE_VALUE_IPV6,
  TCPTRAIL,
} from "./semconv.js";

type HopLike = NonNullable<TraceInit["hops"]>[number];
type Side = "client" | "server";

/** Who the spans are from: one resource and scope for every span of an exporter. */
export interface SpanOrigin {
  resource: Resource;
  scope: { name: string; version?: string };
}

/** Span event names: the TCP segments tcptrail names the sender of. */
export const SPAN_EVENT = { syn: "SYN", fin: "FIN", rst: "RST" } as const;

// Hop outcomes that are a failure of that connection (status ERROR): the
// stitcher's failures. A hop that COMPLETED with FINs is fine even in a failed
// trace (a sidecar relayed the failure as a FIN); OPEN and INCOMPLETE say
// nothing went wrong.
const FAILED: ReadonlySet<number> = new Set<number>(FAILURE_OUTCOMES);

const hrTime = (us: number): HrTime => [Math.floor(us / 1e6), (us % 1e6) * 1000];

/** Wall µs as a number (uint64 fields may arrive as numbers or Long-likes). */
const num = (v: unknown): number => (typeof v === "number" ? v : v === null || v === undefined ? 0 : Number(v));

const traced = (ep: HopEndpoint | null | undefined): ep is HopEndpoint => Boolean(ep?.socketId);

/** "app", "sidecar upstream", "sidecar outbound listener": what a socket is, low-cardinality, for span names. */
function socketLabel(ep: HopEndpoint): string {
  const role = ep.role ? roleName(ep.role).toLowerCase() : "socket";
  if (ep.role === Role.ROLE_SIDECAR && ep.leg) {
    return `${role} ${legName(ep.leg).toLowerCase().replace(/_/g, " ")}`;
  }
  return role;
}

function networkType(ip: string | null | undefined): string | undefined {
  if (!ip) return undefined;
  return ip.includes(":") ? NETWORK_TYPE_VALUE_IPV6 : NETWORK_TYPE_VALUE_IPV4;
}

/** Sets `key` unless the value is unknown ("" and 0 are tcptrail's unknowns). */
function put(attrs: Attributes, key: string, value: string | number | boolean | null | undefined): void {
  if (value === null || value === undefined || value === "" || value === 0) return;
  attrs[key] = value;
}

/** The socket's own attributes: where it lives and whose it is. */
function ownerAttributes(attrs: Attributes, ep: HopEndpoint): void {
  const pod = ep.pod ?? "";
  put(attrs, TCPTRAIL.pod, pod);
  // Only a CRI-resolved name is a Kubernetes pod ("namespace/pod"); the lab's
  // and any /run/netns name is a network namespace's name, not a pod's.
  const slash = pod.indexOf("/");
  if (slash > 0 && slash < pod.length - 1) {
    attrs[ATTR_K8S_NAMESPACE_NAME] = pod.slice(0, slash);
    attrs[ATTR_K8S_POD_NAME] = pod.slice(slash + 1);
    put(attrs, ATTR_K8S_NODE_NAME, ep.node);
  }
  put(attrs, TCPTRAIL.node, ep.node);
  put(attrs, ATTR_PROCESS_PID, ep.pid);
  put(attrs, ATTR_PROCESS_EXECUTABLE_NAME, ep.comm);
  if (ep.role) attrs[TCPTRAIL.role] = roleName(ep.role);
  if (ep.leg) attrs[TCPTRAIL.leg] = legName(ep.leg);
  put(attrs, TCPTRAIL.socketId, ep.socketId);
  // sk_uid 0 is root, a real owner: set whenever the socket was traced.
  attrs[TCPTRAIL.uid] = ep.uid ?? 0;
  put(attrs, TCPTRAIL.netns, num(ep.netns));
}

function confidenceName(v: number | null | undefined): string | undefined {
  if (!v) return undefined;
  return (v1.LinkConfidence[v] as string | undefined)?.replace(/^LINK_CONFIDENCE_/, "");
}

/** The span interval: the hop's, or for a shared connection the part of it this trace used. */
function interval(hop: HopLike, traceEndUs: number): { startUs: number; endUs: number; open: boolean } {
  const startUs = hop.shared && num(hop.useStartUs) > 0 ? num(hop.useStartUs) : num(hop.startUs);
  const hopEnd = hop.shared && num(hop.useEndUs) > 0 ? num(hop.useEndUs) : num(hop.endUs);
  // Still open when the trace was emitted: a span must end, so it ends where
  // the trace does (or where it began), and says it was open.
  const endUs = hopEnd > 0 ? hopEnd : Math.max(startUs, traceEndUs);
  return { startUs, endUs: Math.max(startUs, endUs), open: hopEnd === 0 };
}

function segmentEvents(hop: HopLike, side: Side, startUs: number, endUs: number): TimedEvent[] {
  const events: TimedEvent[] = [];
  const add = (name: string, atUs: number, sender: string, extra: Attributes = {}) =>
    events.push({
      name,
      time: hrTime(atUs),
      attributes: { [TCPTRAIL.sender]: sender, [TCPTRAIL.direction]: sender === side ? "sent" : "received", ...extra },
      droppedAttributesCount: 0,
    });
  // Each segment at the kernel's time of it (Hop.opened_us, first_fin_us,
  // reset_us). A trace stored before those were recorded has only who sent
  // them: then the SYN sits at the span's start and a FIN or RST at its end
  // (known to precede the close).
  const opened = num(hop.openedUs);
  // A reused pooled connection's SYN was sent for an earlier trace, before
  // this trace's use of it (the span): it is that trace's event, not this one's.
  if (hop.openedBy && !(opened > 0 && opened < startUs)) add(SPAN_EVENT.syn, opened || startUs, hop.openedBy);
  if (hop.firstFinBy) add(SPAN_EVENT.fin, num(hop.firstFinUs) || endUs, hop.firstFinBy);
  if (hop.resetBy) add(SPAN_EVENT.rst, num(hop.resetUs) || endUs, hop.resetBy, hop.resetReason ? { [TCPTRAIL.resetReason]: reasonName(hop.resetReason) } : {});
  // In time order, as a backend lists them (sort is stable: equal times keep SYN, FIN, RST).
  return events.sort((a, b) => a.time[0] - b.time[0] || a.time[1] - b.time[1]);
}

function failureMessage(hop: HopLike): string {
  const outcome = outcomeName(hop.outcome);
  if (!hop.resetBy) return `hop ${hop.index ?? 0}: ${outcome}`;
  const by = hop.resetBy === "none" ? "a RST no traced socket sent" : `a RST from the ${hop.resetBy}`;
  const why = hop.resetReason ? ` (kernel reason ${reasonName(hop.resetReason)})` : "";
  return `hop ${hop.index ?? 0}: ${outcome}, ${by}${why}`;
}

interface SpanPlan {
  hop: number;
  side: Side;
  spanId: string;
}

/**
 * The spans of one trace, parents before children. Deterministic: the same
 * trace always gives the same spans, ids included.
 */
export function traceToSpans(trace: Trace | TraceInit, origin: SpanOrigin): ReadableSpan[] {
  const tcptrailId = trace.traceId ?? "";
  const traceId = otlpTraceId(tcptrailId);
  const hops = trace.hops ?? [];
  const parents = hopParents(hops);
  const traceEndUs = Math.max(num(trace.endUs), ...hops.map((h) => num(h.endUs)));
  const spanOf = (i: number, side: Side): SpanPlan | undefined => {
    const ep = hops[i]?.[side];
    return traced(ep) ? { hop: i, side, spanId: otlpSpanId(tcptrailId, ep.socketId!) } : undefined;
  };
  const contextOf = (p: SpanPlan): SpanContext => ({ traceId, spanId: p.spanId, traceFlags: TraceFlags.SAMPLED });
  const originSocket = trace.resetOrigin?.socketId ?? "";
  // RESET_UNTRACED: no traced socket sent the RST; the one that got it is named instead.
  const receiverSocket = trace.resetReceiver?.socketId ?? "";
  const spans: ReadableSpan[] = [];
  hops.forEach((hop, i) => {
    const up = parents[i]!;
    // The leg that caused this hop: the parent hop's server socket (the
    // proxy's downstream), or its client when the server end was not traced.
    const cause = up >= 0 ? (spanOf(up, "server") ?? spanOf(up, "client")) : undefined;
    // A guess is a link; only the hop where the guess is made (a shared hop
    // under one that is not) is cut loose: behind it the chain is certain.
    const guessed =
      Boolean(hop.shared) &&
      hop.linkConfidence === v1.LinkConfidence.LINK_CONFIDENCE_AMBIGUOUS &&
      up >= 0 &&
      !hops[up]!.shared;
    const { startUs, endUs, open } = interval(hop, traceEndUs);
    const clientPlan = spanOf(i, "client");
    for (const side of ["client", "server"] as const) {
      const plan = spanOf(i, side);
      if (!plan) continue;
      const ep = hop[side]!;
      const peer = side === "client" ? hop.server : hop.client;
      // A SERVER span hangs under its own hop's CLIENT span when that socket was traced.
      const parent = side === "server" && clientPlan ? clientPlan : guessed ? undefined : cause;
      const links: Link[] =
        guessed && cause && !(side === "server" && clientPlan)
          ? [{ context: contextOf(cause), attributes: { [TCPTRAIL.link]: hop.link || "pooled", [TCPTRAIL.linkConfidence]: "AMBIGUOUS" } }]
          : [];
      const attrs: Attributes = { [ATTR_NETWORK_TRANSPORT]: NETWORK_TRANSPORT_VALUE_TCP };
      put(attrs, ATTR_NETWORK_TYPE, networkType(ep.ip));
      put(attrs, ATTR_NETWORK_PEER_ADDRESS, peer?.ip);
      put(attrs, ATTR_NETWORK_PEER_PORT, peer?.port);
      const client = hop.client;
      put(attrs, ATTR_CLIENT_ADDRESS, client?.ip);
      put(attrs, ATTR_CLIENT_PORT, client?.port);
      // Seen from the client, the server is the one behind any intermediary:
      // where it meant to go before REDIRECT, when that is known.
      const dst = side === "client" && hop.originalDestination?.ip ? hop.originalDestination : hop.server;
      put(attrs, ATTR_SERVER_ADDRESS, dst?.ip);
      put(attrs, ATTR_SERVER_PORT, dst?.port);
      ownerAttributes(attrs, ep);
      attrs[TCPTRAIL.traceId] = tcptrailId;
      attrs[TCPTRAIL.traceOutcome] = outcomeName(trace.outcome);
      attrs[TCPTRAIL.hop] = hop.index ?? i + 1;
      attrs[TCPTRAIL.side] = side;
      attrs[TCPTRAIL.outcome] = outcomeName(hop.outcome);
      put(attrs, TCPTRAIL.link, hop.link);
      attrs[TCPTRAIL.attempt] = hop.attempt || 1;
      attrs[TCPTRAIL.attempts] = hop.attempts || 1;
      if (hop.resetReason) attrs[TCPTRAIL.resetReason] = reasonName(hop.resetReason);
      if (hop.originalDestination?.ip) {
        attrs[TCPTRAIL.originalDestinationAddress] = hop.originalDestination.ip;
        put(attrs, TCPTRAIL.originalDestinationPort, hop.originalDestination.port);
      }
      if (hop.shared) {
        attrs[TCPTRAIL.shared] = true;
        put(attrs, TCPTRAIL.linkConfidence, confidenceName(hop.linkConfidence));
      }
      if (open) attrs[TCPTRAIL.open] = true;
      if (originSocket && ep.socketId === originSocket) attrs[TCPTRAIL.resetOrigin] = true;
      if (receiverSocket && ep.socketId === receiverSocket) attrs[TCPTRAIL.resetReceiver] = true;
      // The sentence once per trace, on its first span, and on the span where the failure began or was received.
      if (spans.length === 0 || attrs[TCPTRAIL.resetOrigin] || attrs[TCPTRAIL.resetReceiver]) put(attrs, TCPTRAIL.explanation, trace.explanation);
      const failed = FAILED.has(hop.outcome ?? 0) || Boolean(hop.resetBy);
      if (failed) attrs[ATTR_ERROR_TYPE] = outcomeName(hop.outcome);
      const start = hrTime(startUs);
      const end = hrTime(endUs);
      spans.push({
        name: `${socketLabel(ep)} ${side === "client" ? "connect" : "accept"}`,
        kind: side === "client" ? SpanKind.CLIENT : SpanKind.SERVER,
        spanContext: () => contextOf(plan),
        ...(parent ? { parentSpanContext: contextOf(parent) } : {}),
        startTime: start,
        endTime: end,
        duration: hrTime(endUs - startUs),
        status: failed ? { code: SpanStatusCode.ERROR, message: failureMessage(hop) } : { code: SpanStatusCode.UNSET },
        attributes: attrs,
        links,
        events: segmentEvents(hop, side, startUs, endUs),
        ended: true,
        resource: origin.resource,
        instrumentationScope: origin.scope,
        droppedAttributesCount: 0,
        droppedEventsCount: 0,
        droppedLinksCount: 0,
      });
    }
  });
  return spans;
}
