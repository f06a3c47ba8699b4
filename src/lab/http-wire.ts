// HTTP ground truth for pooled upstreams: which upstream connection carried
// each request, and which requests met the keep-alive race. Read from
// tcpdump -A captures that keep, besides SYN/FIN/RST, the segments starting a
// request ("GET ") or an answer ("HTTP"): every lab request carries an id
// (`id=` in its query), so a request is followed by its id from the client's
// connection (client pod, lo) to the upstream (client pod, eth0) to the
// passthrough into the app (server pod, lo), exactly and without timing
// guesses. Pure: the capture text in, the mappings out.
import { hasFlag, parseTcpdumpLine, reduceCapture, type WireEndpoint, type WirePacket } from "./ground-truth.js";

/**
 * Segments that open or close connections, start an HTTP/1 request (GET) or
 * start an answer ("HTTP"): the first four payload bytes sit after the TCP
 * header, whose length is the high nibble of byte 12 in 32-bit words.
 */
export const HTTP_CAPTURE_FILTER =
  "tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0 or tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x47455420 or tcp[((tcp[12:1] & 0xf0) >> 2):4] = 0x48545450";

/** A connection as one wire shows it, the connecting side first. */
export interface TcpTuple {
  src: WireEndpoint;
  dst: WireEndpoint;
}

export interface HttpSegment extends WirePacket {
  /** The request line this segment starts, with the lab's request id (null: none in the query). */
  request?: { path: string; id: string | null };
  /** The status of the answer this segment starts. */
  status?: number;
}

const REQUEST = /(?:GET|HEAD|POST|PUT|DELETE|OPTIONS|PATCH) (\S+) HTTP\/1\.[01]/;
const STATUS = /HTTP\/1\.[01] (\d{3})/;

/** The lab's request id: the `id` query parameter. */
export function requestIdOf(path: string): string | null {
  const q = path.indexOf("?");
  return q < 0 ? null : new URLSearchParams(path.slice(q + 1)).get("id");
}

/** One pod's `tcpdump -A` text: every segment line, with the request or status its payload starts. */
export function parseHttpCapture(netns: string, text: string): HttpSegment[] {
  const out: HttpSegment[] = [];
  let current: HttpSegment | undefined;
  // The payload lines of -A follow their segment line; the IP and TCP headers
  // come first as raw bytes, which may hold newlines: the first line that
  // reads as a request or status line is the one (the filter keeps only
  // segments whose payload starts with one).
  let found = false;
  for (const line of text.split("\n")) {
    const p = parseTcpdumpLine(netns, line);
    if (p) {
      current = p;
      found = false;
      out.push(current);
      continue;
    }
    if (!current || found) continue;
    const req = REQUEST.exec(line);
    const st = STATUS.exec(line);
    if (req && (!st || req.index < st.index)) {
      const path = req[1] ?? "";
      current.request = { path, id: requestIdOf(path) };
      found = true;
    } else if (st) {
      current.status = Number(st[1]);
      found = true;
    }
  }
  return out;
}

/** Every pod's capture, each segment once, in the netns that sent it (see reduceCapture). */
export function reduceHttpCapture(captures: Record<string, string>): HttpSegment[] {
  return reduceCapture(Object.entries(captures).flatMap(([netns, text]) => parseHttpCapture(netns, text)));
}

export interface HttpWireOptions {
  /** Netns of the client app and the pooling sidecar. */
  clientPod: string;
  /** Netns of the app that answers (behind its own sidecar or not). */
  serverPod: string;
  /** The client sidecar's outbound listener, where the client's REDIRECTed requests go. */
  outboundPort: number;
}

export interface PooledUse {
  /** The client connection on the client pod's loopback: the app's endpoint → the outbound listener (after REDIRECT). */
  client: TcpTuple;
  /** The upstream connection that carried the requests, on the client pod's eth0: the sidecar's endpoint → the peer. */
  upstream: TcpTuple;
  /** The server pod's passthrough connection into the app that the requests reached (loopback), when they did. */
  passthrough?: TcpTuple;
  requests: number;
  requestIds: string[];
  /** The first of those requests on the upstream wire (µs since the epoch). */
  firstUs: number;
}

interface Sighting {
  tuple: TcpTuple;
  tsUs: number;
}

const key = (t: TcpTuple): string => `${t.src.ip}:${t.src.port}>${t.dst.ip}:${t.dst.port}`;
const tupleOf = (p: WirePacket): TcpTuple => ({ src: p.src, dst: p.dst });
const sameEp = (a: WireEndpoint, b: WireEndpoint): boolean => a.ip === b.ip && a.port === b.port;
/** Sent by the connection's accepting side. */
const fromPeer = (t: TcpTuple, p: WirePacket): boolean => sameEp(p.src, t.dst) && sameEp(p.dst, t.src);
const fromClient = (t: TcpTuple, p: WirePacket): boolean => sameEp(p.src, t.src) && sameEp(p.dst, t.dst);

/** Where each request id was seen: on the client's connection, the upstream, the passthrough. */
function sightings(segments: readonly HttpSegment[], o: HttpWireOptions): Record<"client" | "upstream" | "passthrough", Map<string, Sighting>> {
  const client = new Map<string, Sighting>();
  const upstream = new Map<string, Sighting>();
  const passthrough = new Map<string, Sighting>();
  for (const p of segments) {
    const id = p.request?.id;
    if (!id || p.direction !== "out") continue;
    const s = { tuple: tupleOf(p), tsUs: p.tsUs };
    // First sighting wins: a retransmitted request is the same request on the same connection.
    const put = (m: Map<string, Sighting>): void => void (m.has(id) || m.set(id, s));
    if (p.netns === o.clientPod && p.iface === "lo" && p.dst.port === o.outboundPort) put(client);
    else if (p.netns === o.clientPod && p.iface !== "lo") put(upstream);
    else if (p.netns === o.serverPod && p.iface === "lo") put(passthrough);
  }
  return { client, upstream, passthrough };
}

/** For every client connection, the upstream connection(s) that carried its requests, in the order of first use. */
export function pooledUses(segments: readonly HttpSegment[], o: HttpWireOptions): PooledUse[] {
  const seen = sightings(segments, o);
  const uses = new Map<string, PooledUse>();
  for (const [id, c] of seen.client) {
    const u = seen.upstream.get(id);
    if (!u) continue;
    const k = `${key(c.tuple)}|${key(u.tuple)}`;
    let use = uses.get(k);
    if (!use) {
      const pt = seen.passthrough.get(id);
      use = { client: c.tuple, upstream: u.tuple, ...(pt ? { passthrough: pt.tuple } : {}), requests: 0, requestIds: [], firstUs: u.tsUs };
      uses.set(k, use);
    }
    use.requests++;
    use.requestIds.push(id);
    use.firstUs = Math.min(use.firstUs, u.tsUs);
  }
  return [...uses.values()].sort((a, b) => a.firstUs - b.firstUs);
}

export interface RacedRequest {
  id: string;
  /** The client connection it came on (client pod loopback), when seen. */
  client?: TcpTuple;
  /** The pooled upstream it was sent on (client pod eth0). */
  upstream: TcpTuple;
  /** The passthrough into the app, when the request got that far. */
  passthrough?: TcpTuple;
  /** The request leaving the client sidecar on the upstream. */
  requestUs: number;
  /** The request reaching the app's socket on the passthrough, when it did. */
  requestAtAppUs?: number;
  /** The app's FIN (its idle close) and its kernel's RST on the passthrough, when sent. */
  appFinUs?: number;
  appRstUs?: number;
  /** The peer sidecar's FIN and RST on the upstream. */
  upstreamFinUs?: number;
  upstreamRstUs?: number;
  /** How long the app's connection had been idle when it closed: from its previous answer to its FIN. */
  idleUs?: number;
}

/**
 * Requests that met the keep-alive race, by the wire alone: sent on an
 * upstream connection that no answer came back on afterwards, and that the
 * peer closed (FIN or RST). A request whose upstream is closed by the client
 * sidecar only, or that was answered, is not one.
 */
export function racedRequests(segments: readonly HttpSegment[], o: HttpWireOptions): RacedRequest[] {
  const seen = sightings(segments, o);
  const raced: RacedRequest[] = [];
  const firstOf = (pred: (p: HttpSegment) => boolean, afterUs: number): number | undefined =>
    segments.find((p) => p.direction === "out" && p.tsUs >= afterUs && pred(p))?.tsUs;
  for (const [id, u] of seen.upstream) {
    const t = u.tuple;
    const onT = segments.filter((p) => p.direction === "out" && (fromPeer(t, p) || fromClient(t, p)));
    const later = onT.filter((p) => p.tsUs > u.tsUs);
    if (later.some((p) => fromClient(t, p) && p.request)) continue; // not the last request on it
    if (later.some((p) => fromPeer(t, p) && p.status !== undefined)) continue; // answered
    // The peer's close may cross the request: look from the previous answer on.
    const prevAnswer = onT.filter((p) => fromPeer(t, p) && p.status !== undefined && p.tsUs < u.tsUs).at(-1)?.tsUs ?? 0;
    const upstreamFinUs = firstOf((p) => fromPeer(t, p) && hasFlag(p, "FIN"), prevAnswer);
    const upstreamRstUs = firstOf((p) => fromPeer(t, p) && hasFlag(p, "RST"), prevAnswer);
    if (upstreamFinUs === undefined && upstreamRstUs === undefined) continue;
    const c = seen.client.get(id);
    const pt = seen.passthrough.get(id) ?? passthroughBefore(seen, t);
    const r: RacedRequest = { id, ...(c ? { client: c.tuple } : {}), upstream: t, requestUs: u.tsUs, ...(upstreamFinUs !== undefined ? { upstreamFinUs } : {}), ...(upstreamRstUs !== undefined ? { upstreamRstUs } : {}) };
    if (pt) {
      const p = pt.tuple;
      const appAnswer = segments.filter((x) => x.direction === "out" && fromPeer(p, x) && x.status !== undefined && x.tsUs < u.tsUs).at(-1)?.tsUs ?? 0;
      const appFinUs = firstOf((x) => fromPeer(p, x) && hasFlag(x, "FIN"), appAnswer);
      const appRstUs = firstOf((x) => fromPeer(p, x) && hasFlag(x, "RST"), appAnswer);
      const atApp = seen.passthrough.get(id);
      r.passthrough = p;
      if (atApp) r.requestAtAppUs = atApp.tsUs;
      if (appFinUs !== undefined) r.appFinUs = appFinUs;
      if (appRstUs !== undefined) r.appRstUs = appRstUs;
      const closeUs = appFinUs ?? appRstUs;
      if (closeUs !== undefined && appAnswer > 0) r.idleUs = closeUs - appAnswer;
    }
    raced.push(r);
  }
  return raced.sort((a, b) => a.requestUs - b.requestUs);
}

/**
 * The passthrough an upstream fed before a request that never reached the app:
 * the one carrying an earlier request id of the same upstream (the peer
 * sidecar keeps one passthrough per upstream connection in tcp mode).
 */
function passthroughBefore(seen: ReturnType<typeof sightings>, upstream: TcpTuple): Sighting | undefined {
  let best: Sighting | undefined;
  for (const [id, u] of seen.upstream) {
    if (key(u.tuple) !== key(upstream)) continue;
    const pt = seen.passthrough.get(id);
    if (pt && (!best || pt.tsUs > best.tsUs)) best = pt;
  }
  return best;
}

/**
 * The connections that carried a lab request (client, upstream, passthrough)
 * and are not yet closed on the wire: closed means a RST from either side, or
 * a FIN each way. Empty once the pool has drained, so a scenario can wait for
 * that instead of sleeping past the app's idle timeout.
 */
export function unclosedConnections(segments: readonly HttpSegment[], o: HttpWireOptions): TcpTuple[] {
  const seen = sightings(segments, o);
  const tuples = new Map<string, TcpTuple>();
  for (const m of [seen.client, seen.upstream, seen.passthrough]) for (const s of m.values()) tuples.set(key(s.tuple), s.tuple);
  // Towards the connecting side by its endpoint alone: on the client's loopback
  // the listener answers from the original destination (conntrack's reverse NAT).
  const toClient = (t: TcpTuple, p: WirePacket): boolean => sameEp(p.dst, t.src);
  const closed = (t: TcpTuple): boolean => {
    const on = segments.filter((p) => p.direction === "out" && (toClient(t, p) || fromClient(t, p)));
    if (on.some((p) => hasFlag(p, "RST"))) return true;
    return on.some((p) => fromClient(t, p) && hasFlag(p, "FIN")) && on.some((p) => toClient(t, p) && hasFlag(p, "FIN"));
  };
  return [...tuples.values()].filter((t) => !closed(t));
}

export const formatTuple = (t: TcpTuple): string => `${t.src.ip}:${t.src.port}→${t.dst.ip}:${t.dst.port}`;
