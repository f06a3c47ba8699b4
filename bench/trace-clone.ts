// Millions of distinct connections from a template of a few thousand: copy k
// of template connection j is connection n = k × T + j. Every copy moves the
// template along in time (so the connections arrive at a steady rate and end
// at a chosen time), gives its sockets other kernel addresses and births and
// its clients other ephemeral ports, and recomputes each trace id from its
// root socket (src/trace/trace-id.ts) so ids stay what the stitcher would
// have given. Traces and events are patched the same way, so a copy's
// timeline finds its copy's events. Nothing is kept per copy: connection n is
// rebuilt from (template, n) alone, which is what lets a bench store 100M
// connections in constant memory and ask for any of them afterwards.
//
// What can be worked out once per template connection (parsed socket ids,
// stretched time offsets, which end of a hop a socket is) is, in "plans":
// a copy is then object literals, a few additions and one sha256, which keeps
// generating 10M connections to well under the time storing them takes.
import type { ConnEvent, ConnEventInit, HopEndpoint, Trace, TraceInit } from "../src/model/mod.js";
import { parseSocketId } from "../src/model/mod.js";
import { traceId } from "../src/trace/mod.js";
import type { TrafficTemplate } from "./traffic-template.js";

/** New connections per second: the rate the store's defaults are sized for (issue 9). */
export const DEFAULT_CLONE_RATE = 1000;
/** Kernel clock of the first copy's first event on every node, ns (~17 min of uptime). */
export const DEFAULT_CLONE_BOOT_NS = 1_000_000_000_000;

export interface CloneOptions {
  /** Connections that will be made (sets where connection 0 starts). */
  count: number;
  /** Connections per second across the copies. Default DEFAULT_CLONE_RATE. */
  ratePerSec?: number;
  /** Wall µs where connection `count - 1` starts (the newest); default now. */
  endUs?: number;
}

const SOCK_ADDRESS_SPACE = 2 ** 32;
const SOCK_ALIGN = 64;
/** Sock addresses move in their low 32 bits (8 hex digits), as slab addresses of one node do. */
const SOCK_LOW_DIGITS = 8;

/** Which end of its hop a socket is: a client's local port, a server's remote port is ephemeral. */
type End = "client" | "server";

/** A struct sock address split into what stays and what moves. */
interface SockPlan {
  head: string;
  low: number;
}

/** A socket id "node/sock/birth" whose sock and birth move per copy; null for an id that does not parse (kept verbatim). */
interface SocketIdPlan {
  /** "node/" + the sock's head. */
  head: string;
  low: number;
  /** Birth, ns after the template's first event, stretched. */
  birthNs: number;
}

interface EndpointPlan {
  ep: HopEndpoint;
  end: End;
  socket: SocketIdPlan | null;
}

interface TracePlan {
  t: Trace;
  /** Stretched wall µs offsets of the trace's and each hop's start and end (null: unset, stays 0). */
  startUs: number | null;
  endUs: number | null;
  hops: {
    startUs: number | null;
    endUs: number | null;
    /** The step times (Hop.opened_us, first_fin_us, reset_us), moved like the hop's start and end. */
    openedUs: number | null;
    firstFinUs: number | null;
    resetUs: number | null;
    client: EndpointPlan | null;
    server: EndpointPlan | null;
  }[];
  resetOrigin: EndpointPlan | null;
  resetReceiver: EndpointPlan | null;
}

interface EventPlan {
  e: ConnEvent;
  relUs: number;
  relNs: number;
  /** Whether the local / remote port is a client's ephemeral port, which moves per copy. */
  moveLocal: boolean;
  moveRemote: boolean;
  sock: SockPlan | null;
}

function sockPlan(sock: string): SockPlan {
  const digits = Math.min(SOCK_LOW_DIGITS, sock.length);
  return { head: sock.slice(0, sock.length - digits), low: Number.parseInt(sock.slice(sock.length - digits) || "0", 16) };
}

const hex8 = (n: number) => n.toString(16).padStart(SOCK_LOW_DIGITS, "0");

/**
 * Builds connection n of `count` from a template. Times are stretched so
 * that connection starts are 1/rate apart on average (the template packs its
 * events 2 µs apart), and the copies follow one another without overlap.
 */
export class TraceCloner {
  readonly template: TrafficTemplate;
  readonly count: number;
  readonly ratePerSec: number;
  /** Wall µs of connection 0's first event. */
  readonly firstUs: number;
  /** Wall µs one copy of the template spans (T / rate). */
  readonly periodUs: number;
  readonly #stretch: number;
  readonly #tmplFirstUs: number;
  readonly #tmplFirstNs: bigint;
  readonly #sockStride: number;
  readonly #portLo: number;
  readonly #portRange: number;
  readonly #portStride: number;
  /** "node/sock" of every template socket → the end of its hop. */
  readonly #ends = new Map<string, End>();
  /** "ip:port" of every hop's client end: how an event of no socket (a kernel's RST for a SYN nothing listened for) names one. */
  readonly #clientEndpoints = new Set<string>();
  readonly #traces: TracePlan[];
  readonly #events: EventPlan[][];

  constructor(template: TrafficTemplate, o: CloneOptions) {
    const T = template.traces.length;
    if (T === 0) throw new Error("an empty template cannot be cloned");
    this.template = template;
    this.count = o.count;
    this.ratePerSec = o.ratePerSec ?? DEFAULT_CLONE_RATE;
    this.periodUs = (T / this.ratePerSec) * 1e6;

    let firstUs = Infinity;
    let lastUs = -Infinity;
    let firstNs: bigint | null = null;
    for (const { events } of template.nodes) {
      for (const e of events) {
        if (e.timeUs < firstUs) firstUs = e.timeUs;
        if (e.timeUs > lastUs) lastUs = e.timeUs;
        if (firstNs === null || e.tsNs < firstNs) firstNs = e.tsNs;
      }
    }
    this.#tmplFirstUs = firstUs;
    this.#tmplFirstNs = firstNs ?? 0n;
    // One more event's worth of span, so that the last event of a copy stays before the next copy's first.
    this.#stretch = this.periodUs / (lastUs - firstUs + 2);
    const lastNs = DEFAULT_CLONE_BOOT_NS + (Math.ceil(o.count / T) + 1) * this.periodUs * 1000;
    if (lastNs > Number.MAX_SAFE_INTEGER) throw new RangeError(`${o.count} connections at ${this.ratePerSec}/s outrun the exact kernel ns of a number`);

    let lowSock = Infinity;
    let highSock = -Infinity;
    let lo = Infinity;
    let hi = -Infinity;
    for (const t of template.traces) {
      for (const h of t.hops) {
        for (const [ep, end] of [
          [h.client, "client"],
          [h.server, "server"],
        ] as const) {
          const id = ep?.socketId ? parseSocketId(ep.socketId) : null;
          if (!id) continue;
          this.#ends.set(`${id.node}/${id.sock}`, end);
          const { low } = sockPlan(id.sock);
          lowSock = Math.min(lowSock, low);
          highSock = Math.max(highSock, low);
          if (end === "client" && ep?.port) {
            this.#clientEndpoints.add(`${ep.ip}:${ep.port}`);
            lo = Math.min(lo, ep.port);
            hi = Math.max(hi, ep.port);
          }
        }
      }
    }
    this.#sockStride = Number.isFinite(highSock) ? Math.ceil((highSock - lowSock + SOCK_ALIGN) / SOCK_ALIGN) * SOCK_ALIGN : SOCK_ALIGN;
    this.#portLo = Number.isFinite(lo) ? lo : 1024;
    this.#portRange = Number.isFinite(hi) ? hi - lo + 1 : 1;
    // Each copy moves its ports by the template's size: consecutive copies reuse a port as late as the range allows.
    this.#portStride = T % this.#portRange;

    this.#traces = template.traces.map((t) => this.#tracePlan(t));
    this.#events = template.nodes.map(({ node, events }) => events.map((e) => this.#eventPlan(e, node)));

    const endUs = o.endUs ?? Date.now() * 1000;
    const last = Math.max(0, o.count - 1);
    // The newest connection's start lands on endUs.
    this.firstUs = Math.round(endUs - Math.floor(last / T) * this.periodUs - this.#wallOffset(template.traces[last % T]!.startUs));
  }

  /** Template connections. */
  get size(): number {
    return this.#traces.length;
  }

  /** Connection n's trace. */
  trace(n: number): TraceInit {
    const T = this.#traces.length;
    return this.#trace(this.#traces[n % T]!, Math.floor(n / T));
  }

  /** Connection n's trace id, as trace(n).traceId, without building the trace. */
  traceId(n: number): string {
    const T = this.#traces.length;
    const p = this.#traces[n % T]!;
    const k = Math.floor(n / T);
    const first = p.hops[0];
    const root = first?.client?.ep.socketId ? first.client : first?.server?.ep.socketId ? first.server : null;
    return this.#id(p, root ? this.#socketId(root, k) : "", k);
  }

  /** Copy k of one node's template events, seqs continuing from copy k - 1. */
  events(k: number, node: number): ConnEventInit[] {
    const plans = this.#events[node]!;
    const seqBase = k * plans.length;
    const out = new Array<ConnEventInit>(plans.length);
    for (let i = 0; i < plans.length; i++) out[i] = this.#event(plans[i]!, k, seqBase);
    return out;
  }

  /** Wall µs of a template time, relative to connection 0's first event. */
  #wallOffset(us: number): number {
    return (us - this.#tmplFirstUs) * this.#stretch;
  }

  #rel(us: number | null | undefined): number | null {
    // 0 means "not set" (an open trace's end): it stays so.
    return us ? this.#wallOffset(us) : null;
  }

  #us(rel: number | null, k: number): number {
    return rel === null ? 0 : Math.round(this.firstUs + k * this.periodUs + rel);
  }

  #ns(relNs: number, k: number): number {
    return DEFAULT_CLONE_BOOT_NS + Math.round(relNs + k * this.periodUs * 1000);
  }

  #lowSock(low: number, k: number): number {
    return (low + k * this.#sockStride) % SOCK_ADDRESS_SPACE;
  }

  #port(port: number, k: number): number {
    if (port < this.#portLo || port >= this.#portLo + this.#portRange) return port;
    return this.#portLo + ((port - this.#portLo + k * this.#portStride) % this.#portRange);
  }

  #endpointPlan(ep: HopEndpoint | null | undefined, fallback: End): EndpointPlan | null {
    if (!ep) return null;
    const id = ep.socketId ? parseSocketId(ep.socketId) : null;
    // A reset's origin and receiver are hop endpoints too: their sockets say which end they are.
    const end = (id && this.#ends.get(`${id.node}/${id.sock}`)) || fallback;
    if (!id) return { ep, end, socket: null };
    const s = sockPlan(id.sock);
    return { ep, end, socket: { head: `${id.node}/${s.head}`, low: s.low, birthNs: Number(id.birthNs - this.#tmplFirstNs) * this.#stretch } };
  }

  #tracePlan(t: Trace): TracePlan {
    return {
      t,
      startUs: this.#rel(t.startUs),
      endUs: this.#rel(t.endUs),
      hops: t.hops.map((h) => ({
        startUs: this.#rel(h.startUs),
        endUs: this.#rel(h.endUs),
        openedUs: this.#rel(h.openedUs),
        firstFinUs: this.#rel(h.firstFinUs),
        resetUs: this.#rel(h.resetUs),
        client: this.#endpointPlan(h.client, "client"),
        server: this.#endpointPlan(h.server, "server"),
      })),
      resetOrigin: this.#endpointPlan(t.resetOrigin, "server"),
      resetReceiver: this.#endpointPlan(t.resetReceiver, "client"),
    };
  }

  #eventPlan(e: ConnEvent, node: string): EventPlan {
    const end = e.sock ? this.#ends.get(`${node}/${e.sock}`) : undefined;
    // An event of no socket names its connection by the tuple alone: its
    // client's port must move as that client's socket's ports do, or a copy's
    // RST would name the template's connection.
    const isClient = (ep: { ip?: string | null; port?: number | null } | null | undefined) => !e.sock && !!ep?.port && this.#clientEndpoints.has(`${ep.ip}:${ep.port}`);
    return {
      e,
      relUs: this.#wallOffset(e.timeUs),
      relNs: Number(e.tsNs - this.#tmplFirstNs) * this.#stretch,
      moveLocal: end === "client" || isClient(e.local),
      moveRemote: end === "server" || isClient(e.remote),
      sock: e.sock ? sockPlan(e.sock) : null,
    };
  }

  #socketId(p: EndpointPlan, k: number): string {
    const s = p.socket;
    // An id that does not parse is kept as it is: the store must keep it verbatim too.
    if (!s) return p.ep.socketId ?? "";
    return `${s.head}${hex8(this.#lowSock(s.low, k))}/${this.#ns(s.birthNs, k)}`;
  }

  #id(p: TracePlan, root: string, k: number): string {
    // A template trace without a root socket (none today) keeps a distinct id per copy all the same.
    return root ? traceId(root) : `${p.t.traceId}-${k}`;
  }

  #endpoint(p: EndpointPlan | null, k: number): HopEndpoint | null {
    if (!p) return null;
    const { ep } = p;
    return {
      ip: ep.ip,
      port: p.end === "client" && ep.port ? this.#port(ep.port, k) : ep.port,
      pod: ep.pod,
      netns: ep.netns,
      role: ep.role,
      leg: ep.leg,
      pid: ep.pid,
      comm: ep.comm,
      uid: ep.uid,
      node: ep.node,
      socketId: p.socket ? this.#socketId(p, k) : ep.socketId,
    };
  }

  #trace(p: TracePlan, k: number): TraceInit {
    const { t } = p;
    const hops = t.hops.map((h, i) => {
      const hp = p.hops[i]!;
      return {
        index: h.index,
        client: this.#endpoint(hp.client, k),
        server: this.#endpoint(hp.server, k),
        originalDestination: h.originalDestination,
        openedBy: h.openedBy,
        firstFinBy: h.firstFinBy,
        resetBy: h.resetBy,
        resetReason: h.resetReason,
        openedUs: this.#us(hp.openedUs, k),
        firstFinUs: this.#us(hp.firstFinUs, k),
        resetUs: this.#us(hp.resetUs, k),
        outcome: h.outcome,
        startUs: this.#us(hp.startUs, k),
        endUs: this.#us(hp.endUs, k),
        link: h.link,
        attempt: h.attempt,
        attempts: h.attempts,
      };
    });
    const first = hops[0];
    return {
      traceId: this.#id(p, first?.client?.socketId || first?.server?.socketId || "", k),
      outcome: t.outcome,
      hops,
      resetOrigin: this.#endpoint(p.resetOrigin, k),
      resetOriginHop: t.resetOriginHop,
      explanation: t.explanation,
      startUs: this.#us(p.startUs, k),
      endUs: this.#us(p.endUs, k),
      resetReceiver: this.#endpoint(p.resetReceiver, k),
      firstCloseHop: t.firstCloseHop,
      firstCloseBy: t.firstCloseBy,
    };
  }

  #event(p: EventPlan, k: number, seqBase: number): ConnEventInit {
    const { e } = p;
    const local = e.local ? { ip: e.local.ip, port: p.moveLocal && e.local.port ? this.#port(e.local.port, k) : e.local.port } : null;
    const remote = e.remote ? { ip: e.remote.ip, port: p.moveRemote && e.remote.port ? this.#port(e.remote.port, k) : e.remote.port } : null;
    return {
      seq: seqBase + e.seq,
      kind: e.kind,
      tsNs: BigInt(this.#ns(p.relNs, k)),
      timeUs: this.#us(p.relUs, k),
      sock: p.sock ? p.sock.head + hex8(this.#lowSock(p.sock.low, k)) : e.sock,
      netns: e.netns,
      pod: e.pod,
      family: e.family,
      local,
      remote,
      oldState: e.oldState,
      newState: e.newState,
      resetReason: e.resetReason,
      uid: e.uid,
      process: e.process,
      owner: e.owner,
      role: e.role,
      leg: e.leg,
      ret: e.ret,
      target: e.target,
      shutdownHow: e.shutdownHow,
      fd: e.fd,
    };
  }
}
