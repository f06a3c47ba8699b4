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
import type { ConnEvent, ConnEventInit, HopEndpoint, Trace, TraceInit } from "../src/model/mod.js";
import { formatSocketId, parseSocketId } from "../src/model/mod.js";
import { traceId } from "../src/trace/mod.js";
import type { TrafficTemplate } from "./traffic-template.js";

/** New connections per second: the rate the store's defaults are sized for (issue 9). */
export const DEFAULT_CLONE_RATE = 1000;
/** Kernel clock of the first copy's first event on every node (~17 min of uptime). */
export const DEFAULT_CLONE_BOOT_NS = 1_000_000_000_000n;

export interface CloneOptions {
  /** Connections per second across the copies. Default DEFAULT_CLONE_RATE. */
  ratePerSec?: number;
  /** Wall µs where connection `count - 1` starts (the newest); default now. */
  endUs?: number;
  /** Connections that will be made (sets where connection 0 starts). */
  count: number;
}

const SOCK_ADDRESS_SPACE = 2 ** 32;
const SOCK_ALIGN = 64;

/** Which end of its hop a socket is: a client's local port, a server's remote port is ephemeral. */
type End = "client" | "server";

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
  readonly #tmplFirstUs: number;
  readonly #stretch: number;
  readonly #tmplFirstNs: bigint;
  readonly #sockStride: number;
  readonly #portLo: number;
  readonly #portRange: number;
  readonly #portStride: number;
  /** "node/sock" of every template socket → the end of its hop. */
  readonly #ends = new Map<string, End>();

  constructor(template: TrafficTemplate, o: CloneOptions) {
    if (template.traces.length === 0) throw new Error("an empty template cannot be cloned");
    this.template = template;
    this.count = o.count;
    this.ratePerSec = o.ratePerSec ?? DEFAULT_CLONE_RATE;
    const T = template.traces.length;
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

    let lowSock = Infinity;
    let highSock = -Infinity;
    let lo = Infinity;
    let hi = -Infinity;
    const note = (ep: HopEndpoint | null | undefined, end: End) => {
      const id = ep?.socketId ? parseSocketId(ep.socketId) : null;
      if (!id) return;
      this.#ends.set(`${id.node}/${id.sock}`, end);
      const low = Number.parseInt(id.sock.slice(-8), 16);
      lowSock = Math.min(lowSock, low);
      highSock = Math.max(highSock, low);
      if (end === "client" && ep?.port) {
        lo = Math.min(lo, ep.port);
        hi = Math.max(hi, ep.port);
      }
    };
    for (const t of template.traces) {
      for (const h of t.hops) {
        note(h.client, "client");
        note(h.server, "server");
      }
    }
    this.#sockStride = Number.isFinite(highSock) ? Math.ceil((highSock - lowSock + SOCK_ALIGN) / SOCK_ALIGN) * SOCK_ALIGN : SOCK_ALIGN;
    this.#portLo = Number.isFinite(lo) ? lo : 1024;
    this.#portRange = Number.isFinite(hi) ? hi - lo + 1 : 1;
    // Each copy moves its ports by the template's size: consecutive copies reuse a port as late as the range allows.
    this.#portStride = T % this.#portRange;

    const endUs = o.endUs ?? Date.now() * 1000;
    const last = Math.max(0, o.count - 1);
    // The newest connection's start lands on endUs.
    this.firstUs = Math.round(endUs - Math.floor(last / T) * this.periodUs - this.#wallOffset(template.traces[last % T]!.startUs));
  }

  /** Template connections. */
  get size(): number {
    return this.template.traces.length;
  }

  /** Connection n's trace. */
  trace(n: number): TraceInit {
    const T = this.size;
    const k = Math.floor(n / T);
    const t = this.template.traces[n % T]!;
    return this.#trace(t, k);
  }

  /** Connection n's trace id, as trace(n).traceId. */
  traceId(n: number): string {
    return this.trace(n).traceId!;
  }

  /** Copy k of one node's template events, seqs continuing from copy k - 1. */
  events(k: number, node: number): ConnEventInit[] {
    const { node: name, events } = this.template.nodes[node]!;
    const seqBase = k * events.length;
    return events.map((e) => this.#event(e, k, seqBase, name));
  }

  /** Wall µs of a template time, relative to connection 0's first event. */
  #wallOffset(us: number): number {
    return (us - this.#tmplFirstUs) * this.#stretch;
  }

  #us(us: number, k: number): number {
    // 0 means "not set" (an open trace's end): it stays so.
    return us === 0 ? 0 : Math.round(this.firstUs + k * this.periodUs + this.#wallOffset(us));
  }

  #ns(ns: bigint, k: number): bigint {
    const rel = Number(ns - this.#tmplFirstNs) * this.#stretch + k * this.periodUs * 1000;
    return DEFAULT_CLONE_BOOT_NS + BigInt(Math.round(rel));
  }

  #sock(sock: string, k: number): string {
    const low = Number.parseInt(sock.slice(-8), 16);
    const moved = (low + k * this.#sockStride) % SOCK_ADDRESS_SPACE;
    return sock.slice(0, -8) + moved.toString(16).padStart(8, "0");
  }

  #port(port: number, k: number): number {
    if (port < this.#portLo || port >= this.#portLo + this.#portRange) return port;
    return this.#portLo + ((port - this.#portLo + k * this.#portStride) % this.#portRange);
  }

  #socketId(id: string, k: number): string {
    const s = parseSocketId(id);
    // An id that does not parse is kept as it is: the store must keep it verbatim too.
    if (!s) return id;
    return formatSocketId({ node: s.node, sock: this.#sock(s.sock, k), birthNs: this.#ns(s.birthNs, k) });
  }

  /** The end of its hop the socket behind `ep` is; `fallback` for an endpoint without a (known) socket. */
  #endOf(ep: HopEndpoint | null | undefined, fallback: End): End {
    const id = ep?.socketId ? parseSocketId(ep.socketId) : null;
    return (id && this.#ends.get(`${id.node}/${id.sock}`)) || fallback;
  }

  #endpoint(ep: HopEndpoint | null | undefined, k: number, fallback: End): HopEndpoint | null {
    if (!ep) return null;
    const end = this.#endOf(ep, fallback);
    return {
      ip: ep.ip,
      port: end === "client" && ep.port ? this.#port(ep.port, k) : ep.port,
      pod: ep.pod,
      netns: ep.netns,
      role: ep.role,
      leg: ep.leg,
      pid: ep.pid,
      comm: ep.comm,
      uid: ep.uid,
      node: ep.node,
      socketId: ep.socketId ? this.#socketId(ep.socketId, k) : ep.socketId,
    };
  }

  #trace(t: Trace, k: number): TraceInit {
    const hops = t.hops.map((h) => ({
      index: h.index,
      client: this.#endpoint(h.client, k, "client"),
      server: this.#endpoint(h.server, k, "server"),
      originalDestination: h.originalDestination,
      openedBy: h.openedBy,
      firstFinBy: h.firstFinBy,
      resetBy: h.resetBy,
      resetReason: h.resetReason,
      outcome: h.outcome,
      startUs: this.#us(h.startUs ?? 0, k),
      endUs: this.#us(h.endUs ?? 0, k),
      link: h.link,
      attempt: h.attempt,
      attempts: h.attempts,
    }));
    const first = hops[0];
    const root = first?.client?.socketId || first?.server?.socketId || "";
    return {
      // A template trace whose id is not its root's hash (none today) keeps a distinct id per copy all the same.
      traceId: root ? traceId(root) : `${t.traceId}-${k}`,
      outcome: t.outcome,
      hops,
      // A reset's origin and receiver are hop endpoints: their sockets say which end they are.
      resetOrigin: this.#endpoint(t.resetOrigin, k, "server"),
      resetOriginHop: t.resetOriginHop,
      explanation: t.explanation,
      startUs: this.#us(t.startUs, k),
      endUs: this.#us(t.endUs, k),
      resetReceiver: this.#endpoint(t.resetReceiver, k, "client"),
      firstCloseHop: t.firstCloseHop,
      firstCloseBy: t.firstCloseBy,
    };
  }

  #event(e: ConnEvent, k: number, seqBase: number, node: string): ConnEventInit {
    const end = e.sock ? this.#ends.get(`${node}/${e.sock}`) : undefined;
    const local = e.local ? { ip: e.local.ip, port: end === "client" && e.local.port ? this.#port(e.local.port, k) : e.local.port } : null;
    const remote = e.remote ? { ip: e.remote.ip, port: end === "server" && e.remote.port ? this.#port(e.remote.port, k) : e.remote.port } : null;
    return {
      seq: seqBase + e.seq,
      kind: e.kind,
      tsNs: this.#ns(e.tsNs, k),
      timeUs: this.#us(e.timeUs, k),
      sock: e.sock ? this.#sock(e.sock, k) : e.sock,
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
