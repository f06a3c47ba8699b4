// The sequence diagram of a trace as numbers: lanes (one per endpoint a
// packet leaves or reaches), arrows (SYN, FIN, RST: who sent them, on which
// hop, when), and where each sits on the page. Pure: no DOM, so it is tested
// in Node and the page only turns it into SVG (web/diagram.ts).
//
// What an arrow means comes from the hop as the stitcher judged it (opened_by,
// first_fin_by, reset_by, reset_reason): the diagram never re-judges a trace.
// When it happened comes from the hop too (opened_us, first_fin_us, reset_us:
// the kernel's time of the step the stitcher took the sender from). A trace
// stored before those were recorded has none: then the connection's events,
// when the page has them (the timeline of the trace), give each arrow its
// time, and without them a FIN or RST is placed at its hop's end and marked
// inexact.
import type { EventJson } from "../query/event-json.js";
import type { EndpointJson, HopJson, TraceJson } from "../query/trace-json.js";

export interface LayoutOptions {
  /** Horizontal distance between lane centres, px. */
  laneWidth?: number;
  /** Left margin before the first lane centre (room for the step timings), px. */
  left?: number;
  /** Space above the first arrow (the lane heads), px. */
  top?: number;
  /** Vertical distance between two arrows, px, before the gap allowance. */
  rowHeight?: number;
  /** Extra px per decade of the time between two arrows, so a long pause reads as one. */
  pxPerDecade?: number;
  /** Cap of that extra space, px. */
  maxGapPx?: number;
}

// Wide enough for an arrow's label ("SYN by sidecar outbound tt-a · orig dst 10.88.100.3:8080") over two lanes.
export const DEFAULT_LANE_WIDTH = 230;
export const DEFAULT_LEFT = 110;
export const DEFAULT_TOP = 96;
export const DEFAULT_ROW_HEIGHT = 46;
export const DEFAULT_PX_PER_DECADE = 4;
export const DEFAULT_MAX_GAP_PX = 28;

export type Signal = "SYN" | "FIN" | "RST";
/** Which end of its hop sent an arrow; "network" for a RST no traced socket sent. */
export type Sender = "client" | "server" | "network";

export interface LaneSocket {
  hop: number;
  side: "client" | "server";
  /** "ip:port" of this socket. */
  address: string;
  socketId: string | null;
}

export interface Lane {
  index: number;
  key: string;
  /** Centre, px. */
  x: number;
  /** "app", "sidecar outbound", "sidecar inbound", "network", "untraced". */
  title: string;
  pod: string | null;
  /** "tt-client (pid 609)", "" when no process is known. */
  process: string;
  node: string | null;
  /** The reset origin is this lane's. */
  origin: boolean;
  sockets: LaneSocket[];
}

export interface Arrow {
  hop: number;
  signal: Signal;
  sender: Sender;
  /** Lane indexes. */
  from: number;
  to: number;
  timeUs: number;
  /** False when neither the hop nor an event gave its time (placed at its hop's end). */
  exact: boolean;
  /** Since the arrow above it, µs; null for the first. */
  sinceUs: number | null;
  y: number;
  /** The kernel's reset reason of a RST. */
  reason: string | null;
  /**
   * Where the trace's failure began: the origin hop's RST, or, on an origin
   * hop without one (a keep-alive race's idle close), the origin's FIN.
   */
  origin: boolean;
  /** Its hop is a pooled connection other traces used too. */
  shared: boolean;
  /** Shared hops: the stitcher's link to this trace is a guess (another request may have used it then). */
  ambiguous: boolean;
  /** A shared hop's SYN from before this trace used the connection: it was opened for an earlier request and reused. */
  reused: boolean;
  /** SYN arrows of REDIRECTed connections: where the client meant to go. */
  originalDestination: string | null;
}

export interface SequenceLayout {
  lanes: Lane[];
  arrows: Arrow[];
  width: number;
  height: number;
}

/** "10.88.0.2:40112", "[::1]:80", "?" */
export function endpointAddress(ep: Pick<EndpointJson, "ip" | "port">): string {
  if (!ep.ip) return "?";
  return ep.ip.includes(":") ? `[${ep.ip}]:${ep.port ?? 0}` : `${ep.ip}:${ep.port ?? 0}`;
}

function direction(leg: string | null): "outbound" | "inbound" | "" {
  if (leg === "OUTBOUND_LISTENER" || leg === "UPSTREAM") return "outbound";
  if (leg === "INBOUND_LISTENER" || leg === "INBOUND_PASSTHROUGH") return "inbound";
  return "";
}

/**
 * Which lane an endpoint belongs to. A process is one lane per direction: a
 * sidecar's accepted socket and the upstream it dials for it are one actor
 * (the outbound sidecar), while the same sidecar's inbound side is another. An
 * endpoint no traced socket stands for (a refused peer, a middlebox) is known
 * only by its address.
 */
export function laneKey(ep: EndpointJson): string {
  if (!ep.socket_id && !ep.pid && ep.role !== "APP" && ep.role !== "SIDECAR") return `addr|${endpointAddress(ep)}`;
  return ["proc", ep.node ?? "", ep.netns ?? "", ep.pod ?? "", ep.pid ?? "", ep.role ?? "", direction(ep.leg)].join("|");
}

export function laneTitle(ep: EndpointJson): string {
  switch (ep.role) {
    case "APP":
      return "app";
    case "SIDECAR": {
      const d = direction(ep.leg);
      return d ? `sidecar ${d}` : "sidecar";
    }
    case "NETWORK":
      return "network";
    default:
      return "untraced";
  }
}

function processLabel(ep: EndpointJson): string {
  if (ep.comm && ep.pid) return `${ep.comm} (pid ${ep.pid})`;
  if (ep.comm) return ep.comm;
  return ep.pid ? `pid ${ep.pid}` : "";
}

/** "node/sock/birth" → [node, sock]: how events name their socket. */
function socketOf(id: string | null): { node: string; sock: string } | null {
  if (!id) return null;
  const parts = id.split("/");
  return parts.length >= 2 ? { node: parts[0]!, sock: parts[1]! } : null;
}

const sameSocket = (e: EventJson, s: { node: string; sock: string } | null): boolean => s !== null && e.node === s.node && e.sock === s.sock;

/** The first event on socket `s` matching `pred`: its time, or undefined. */
function firstTime(events: readonly EventJson[], s: { node: string; sock: string } | null, pred: (e: EventJson) => boolean): number | undefined {
  let best: number | undefined;
  for (const e of events) {
    if (sameSocket(e, s) && pred(e) && e.time_us > 0 && (best === undefined || e.time_us < best)) best = e.time_us;
  }
  return best;
}

const finSent = (e: EventJson) =>
  e.kind === "STATE_CHANGE" && (e.new_state === "FIN_WAIT1" || (e.old_state === "CLOSE_WAIT" && e.new_state === "LAST_ACK"));
const finReceived = (e: EventJson) => e.kind === "STATE_CHANGE" && e.new_state === "CLOSE_WAIT";
const synSent = (e: EventJson) => e.kind === "STATE_CHANGE" && e.new_state === "SYN_SENT";
const rstSent = (e: EventJson) => e.kind === "RESET_SENT";
const rstReceived = (e: EventJson) => e.kind === "RESET_RECEIVED";

const usOf = (iso: string | null): number => (iso ? Date.parse(iso) * 1000 + Number(/\.\d{3}(\d{3})Z$/.exec(iso)?.[1] ?? 0) : 0);

/** A hop's start and end in µs (the JSON gives them as RFC 3339 with µs). */
export function hopTimesUs(h: Pick<HopJson, "start" | "end">): { startUs: number; endUs: number } {
  return { startUs: usOf(h.start), endUs: usOf(h.end) };
}

interface Pending extends Omit<Arrow, "sinceUs" | "y"> {
  order: number;
}

function hopArrows(t: TraceJson, h: HopJson, lanes: { client: number; server: number }, events: readonly EventJson[]): Pending[] {
  const out: Pending[] = [];
  const { startUs, endUs } = hopTimesUs(h);
  const sock = { client: socketOf(h.client.socket_id), server: socketOf(h.server.socket_id) };
  const laneOf = (side: "client" | "server") => lanes[side];
  const other = (side: "client" | "server") => (side === "client" ? "server" : "client");
  const base = {
    hop: h.index,
    shared: h.shared,
    ambiguous: h.shared && h.link_confidence === "AMBIGUOUS",
    reused: false,
    reason: null,
    origin: false,
    originalDestination: null,
  };
  const originHop = t.reset_origin_hop === h.index;
  const originKey = t.reset_origin ? laneKey(t.reset_origin) : undefined;

  const opener = h.opened_by === "server" ? "server" : "client";
  const synAt = h.opened_us ?? firstTime(events, sock[opener], synSent);
  const dest = h.original_destination && h.original_destination !== endpointAddress(h.server) ? h.original_destination : null;
  out.push({
    ...base,
    signal: "SYN",
    sender: opener,
    from: laneOf(opener),
    to: laneOf(other(opener)),
    timeUs: synAt ?? startUs,
    exact: synAt !== undefined || startUs > 0,
    originalDestination: dest,
    reused: h.shared && h.use_start_us !== null && (synAt ?? startUs) < h.use_start_us,
    order: 0,
  });

  if (h.first_fin_by === "client" || h.first_fin_by === "server") {
    const by = h.first_fin_by;
    const at = h.first_fin_us ?? firstTime(events, sock[by], finSent) ?? firstTime(events, sock[other(by)], finReceived);
    out.push({
      ...base,
      signal: "FIN",
      sender: by,
      from: laneOf(by),
      to: laneOf(other(by)),
      timeUs: at ?? endUs,
      exact: at !== undefined,
      origin: originHop && !h.reset_by && laneKey(h[by]) === originKey,
      order: 1,
    });
  }

  if (h.reset_by) {
    // "none": a RST that no traced socket sent reached the traced end; it
    // comes from beyond it, so it is drawn from the other (untraced) lane.
    const network = h.reset_by !== "client" && h.reset_by !== "server";
    const receiver: "client" | "server" = network ? (h.client.socket_id || !h.server.socket_id ? "client" : "server") : other(h.reset_by as "client" | "server");
    const sender: Sender = network ? "network" : (h.reset_by as "client" | "server");
    const at =
      h.reset_us ??
      (network
        ? firstTime(events, sock[receiver], rstReceived)
        : (firstTime(events, sock[h.reset_by as "client" | "server"], rstSent) ?? firstTime(events, sock[receiver], rstReceived)));
    out.push({
      ...base,
      signal: "RST",
      sender,
      from: laneOf(other(receiver)),
      to: laneOf(receiver),
      timeUs: at ?? endUs,
      exact: at !== undefined,
      reason: h.reset_reason,
      origin: originHop,
      order: 2,
    });
  }
  return out;
}

/** Does some arrow of `t` need the connection's events for its time (a trace stored before step times were recorded)? */
export function needsEvents(t: TraceJson): boolean {
  return t.hops.some(
    (h) =>
      h.opened_us === null ||
      ((h.first_fin_by === "client" || h.first_fin_by === "server") && h.first_fin_us === null) ||
      (Boolean(h.reset_by) && h.reset_us === null),
  );
}

/**
 * Lanes in the order the trace meets them (each hop's client, then its
 * server), arrows in time order, each with its y and the time since the one above.
 */
export function layoutSequence(t: TraceJson, events: readonly EventJson[] = [], opts: LayoutOptions = {}): SequenceLayout {
  const laneWidth = opts.laneWidth ?? DEFAULT_LANE_WIDTH;
  const left = opts.left ?? DEFAULT_LEFT;
  const top = opts.top ?? DEFAULT_TOP;
  const rowHeight = opts.rowHeight ?? DEFAULT_ROW_HEIGHT;
  const pxPerDecade = opts.pxPerDecade ?? DEFAULT_PX_PER_DECADE;
  const maxGapPx = opts.maxGapPx ?? DEFAULT_MAX_GAP_PX;

  const lanes: Lane[] = [];
  const byKey = new Map<string, Lane>();
  const originKey = t.reset_origin ? laneKey(t.reset_origin) : undefined;
  const laneFor = (ep: EndpointJson, hop: number, side: "client" | "server"): number => {
    const key = laneKey(ep);
    let lane = byKey.get(key);
    if (!lane) {
      lane = {
        index: lanes.length,
        key,
        x: left + lanes.length * laneWidth,
        title: laneTitle(ep),
        pod: ep.pod,
        process: processLabel(ep),
        node: ep.node,
        origin: key === originKey,
        sockets: [],
      };
      lanes.push(lane);
      byKey.set(key, lane);
    }
    lane.sockets.push({ hop, side, address: endpointAddress(ep), socketId: ep.socket_id });
    return lane.index;
  };

  const pending: Pending[] = [];
  for (const h of t.hops) {
    const client = laneFor(h.client, h.index, "client");
    const server = laneFor(h.server, h.index, "server");
    pending.push(...hopArrows(t, h, { client, server }, events));
  }
  // Time order; at equal times the chain's order (hop, then SYN < FIN < RST).
  pending.sort((a, b) => a.timeUs - b.timeUs || a.hop - b.hop || a.order - b.order);

  const arrows: Arrow[] = [];
  let y = top;
  for (const [i, p] of pending.entries()) {
    const prev = pending[i - 1];
    const sinceUs = prev ? Math.max(0, p.timeUs - prev.timeUs) : null;
    if (prev) y += rowHeight + Math.min(maxGapPx, Math.log10(1 + (sinceUs ?? 0)) * pxPerDecade);
    const { order: _order, ...arrow } = p;
    arrows.push({ ...arrow, sinceUs, y: Math.round(y) });
  }
  return {
    lanes,
    arrows,
    width: left * 2 + Math.max(0, lanes.length - 1) * laneWidth,
    height: (arrows.length ? arrows[arrows.length - 1]!.y : top) + rowHeight,
  };
}
