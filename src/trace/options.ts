// Stitcher options and their defaults, applied in one place.
import type { Trace } from "../model/mod.js";
import { StitcherOptionsError } from "./errors.js";
import type { TraceInfo } from "./trace-info.js";

/**
 * The sidecars' configured idle timeout (HAProxy `timeout client/server`,
 * Envoy `idle_timeout`): unknown unless the caller says, so explanations do
 * not compare an idle stretch with a timeout nobody configured.
 */
export const DEFAULT_PROXY_IDLE_TIMEOUT_MS: number | readonly number[] | undefined = undefined;
/**
 * Without a configured timeout, a sidecar's first close after at least this
 * long without any event on the connection reads as an idle timeout: proxies
 * configure idle timeouts in seconds, while a close right after traffic is the
 * proxy's answer to that traffic.
 */
export const DEFAULT_IDLE_CLOSE_MIN_MS = 1000;
/**
 * How long after a failed upstream connect a proxy's next connect to the same
 * destination still counts as its retry: HAProxy waits min(timeout connect,
 * 1 s) before retrying, Envoy backs off 25-250 ms; twice the longest of them.
 */
export const DEFAULT_RETRY_WINDOW_MS = 2000;

/**
 * A pooled upstream's FIN that reaches the sidecar at most this long after the
 * sidecar reused the connection still makes the keep-alive race: the FIN was
 * on the wire when the request left, and they crossed. One in-cluster round
 * trip is well under a millisecond and a cross-zone one a few; a FIN later
 * than this is the peer's answer to something else, not a crossing.
 */
export const DEFAULT_RACE_CROSSING_WINDOW_MS = 5;

/**
 * How long a node that sends nothing may be stalled (a SIGSTOPped agent, a
 * long GC pause, a partition) before the stitcher presumes it idle or gone:
 * until then its clock stands still, so what waits on its events (its own
 * traces, and others' whose missing end is at its addresses) keeps waiting
 * instead of finishing half a connection. An agent paused longer than this
 * can split a connection again; an idle node's address that a REJECT answered
 * holds that trace this long.
 */
export const DEFAULT_STALL_MAX_MS = 30_000;

/**
 * After an agent gap with a span (bpftrace restarted, events dropped), how
 * long (in the node's event time, from the gap's end) a socket that was open
 * before it may show nothing before it is taken as closed inside the gap: its
 * close was never printed, so without this it would stay OPEN until maxAgeMs
 * (5 min). A few seconds: the socket's process usually reads, writes or
 * closes within that, and each of those shows. A connection idle longer than
 * this across a gap (a pooled keep-alive one) is settled too, as INCOMPLETE
 * ("its close was not seen"), exactly like one that really closed in the gap:
 * from its node's events the two cannot be told apart. Its later events are
 * absorbed by the emitted trace (as after maxAgeMs), never a second trace.
 */
export const DEFAULT_GAP_CLOSE_WAIT_MS = 5000;

export interface StitcherOptions {
  /** Called once per finished trace. */
  onTrace?: (trace: Trace, info: TraceInfo) => void;
  /** Per-node reorder window in kernel time. Default 200 ms. */
  reorderWindowMs?: number;
  /** How long a closed socket stays addressable for late syscall events (kernel time). Default 2000 ms. */
  lingerMs?: number;
  /**
   * How long a trace waits after its last socket closed, for late events and
   * other nodes' events to arrive, in its node's event time (node-state.ts:
   * the newest event's time, run on by wall time only while the node is
   * presumed live). Default 1000 ms.
   */
  settleMs?: number;
  /**
   * How long a node's clock runs on by wall time after its last batch (it is
   * presumed live that long). Default settleMs, so that an idle node's last
   * trace still settles.
   */
  nodeLiveMs?: number;
  /** See DEFAULT_STALL_MAX_MS. */
  stallMaxMs?: number;
  /** A trace whose sockets stay open this long (wall time) is emitted once as OPEN. Default 300000 ms. */
  maxAgeMs?: number;
  /** See DEFAULT_GAP_CLOSE_WAIT_MS. */
  gapCloseWaitMs?: number;
  /** Largest kernel-time distance between a client's SYN and the server socket it pairs with, same node. Default 10000 ms. */
  pairWindowMs?: number;
  /** Largest kernel-time distance between a sidecar's accept/SO_ORIGINAL_DST and the upstream connect it links to. Default 1000 ms. */
  proxyWindowMs?: number;
  /**
   * Largest kernel-time distance between a proxy's failed upstream attempt
   * (closed without connecting) and its next connect for the same downstream,
   * linked as a retry. Default DEFAULT_RETRY_WINDOW_MS.
   */
  retryWindowMs?: number;
  /** Outbound redirect listener ports (same netns as the app). Default [15001]. */
  outboundRedirectPorts?: number[];
  /** Inbound redirect listener ports (the destination pod). Default [15006]. */
  inboundRedirectPorts?: number[];
  /** Socket slots allocated up front; the table grows by half when full. Default 1024. */
  initialCapacity?: number;
  /** Wall clock in ms, for settle/max-age/quiet-node decisions. Default Date.now. */
  clock?: () => number;
  /**
   * The sidecars' idle timeout(s), when known: a sidecar's first FIN or RST
   * after about this long without events is named an idle timeout ("1.0 s idle
   * vs the configured timeout 1 s"), one far from every value is not.
   * Default DEFAULT_PROXY_IDLE_TIMEOUT_MS (unknown).
   */
  proxyIdleTimeoutMs?: number | readonly number[];
  /** Without proxyIdleTimeoutMs: the shortest quiet stretch before a sidecar's first close that reads as an idle timeout. Default DEFAULT_IDLE_CLOSE_MIN_MS. */
  idleCloseMinMs?: number;
  /**
   * How long after a sidecar reused a pooled upstream its peer's FIN may
   * arrive and still count as the keep-alive race (they crossed on the wire).
   * Default DEFAULT_RACE_CROSSING_WINDOW_MS.
   */
  raceCrossingWindowMs?: number;
}

export interface ResolvedOptions {
  onTrace: (trace: Trace, info: TraceInfo) => void;
  reorderWindowNs: number;
  reorderWindowMs: number;
  lingerNs: number;
  lingerMs: number;
  settleMs: number;
  nodeLiveMs: number;
  stallMaxMs: number;
  maxAgeMs: number;
  gapCloseWaitMs: number;
  pairWindowNs: number;
  proxyWindowNs: number;
  retryWindowNs: number;
  outboundRedirectPorts: ReadonlySet<number>;
  inboundRedirectPorts: ReadonlySet<number>;
  initialCapacity: number;
  clock: () => number;
  /** Configured sidecar idle timeouts, ms (empty when unknown). */
  proxyIdleTimeoutsMs: readonly number[];
  idleCloseMinMs: number;
  raceCrossingWindowNs: number;
}

function nonNegative(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isFinite(x) || x < 0) throw StitcherOptionsError.format(name, `must be a finite number >= 0, got ${x}`);
  return x;
}

function idleTimeouts(v: number | readonly number[] | undefined): readonly number[] {
  const list = v === undefined ? [] : typeof v === "number" ? [v] : [...v];
  for (const x of list) {
    if (!Number.isFinite(x) || x <= 0) throw StitcherOptionsError.format("proxyIdleTimeoutMs", `must be finite numbers > 0, got ${x}`);
  }
  return list;
}

function ports(name: string, v: number[] | undefined, dflt: number[]): ReadonlySet<number> {
  const list = v ?? dflt;
  for (const p of list) {
    if (!Number.isInteger(p) || p <= 0 || p > 65535) throw new StitcherOptionsError(`${name}: ${p} is not a TCP port`, { property: name });
  }
  return new Set(list);
}

export function resolveOptions(o: StitcherOptions = {}): ResolvedOptions {
  const reorderWindowMs = nonNegative("reorderWindowMs", o.reorderWindowMs, 200);
  const lingerMs = nonNegative("lingerMs", o.lingerMs, 2000);
  const settleMs = nonNegative("settleMs", o.settleMs, 1000);
  const initialCapacity = Math.max(16, Math.floor(nonNegative("initialCapacity", o.initialCapacity, 1024)));
  return {
    onTrace: o.onTrace ?? (() => {}),
    reorderWindowMs,
    reorderWindowNs: reorderWindowMs * 1e6,
    lingerMs,
    lingerNs: lingerMs * 1e6,
    settleMs,
    nodeLiveMs: nonNegative("nodeLiveMs", o.nodeLiveMs, settleMs),
    stallMaxMs: nonNegative("stallMaxMs", o.stallMaxMs, DEFAULT_STALL_MAX_MS),
    maxAgeMs: nonNegative("maxAgeMs", o.maxAgeMs, 300_000),
    gapCloseWaitMs: nonNegative("gapCloseWaitMs", o.gapCloseWaitMs, DEFAULT_GAP_CLOSE_WAIT_MS),
    pairWindowNs: nonNegative("pairWindowMs", o.pairWindowMs, 10_000) * 1e6,
    proxyWindowNs: nonNegative("proxyWindowMs", o.proxyWindowMs, 1000) * 1e6,
    retryWindowNs: nonNegative("retryWindowMs", o.retryWindowMs, DEFAULT_RETRY_WINDOW_MS) * 1e6,
    outboundRedirectPorts: ports("outboundRedirectPorts", o.outboundRedirectPorts, [15001]),
    inboundRedirectPorts: ports("inboundRedirectPorts", o.inboundRedirectPorts, [15006]),
    initialCapacity,
    clock: o.clock ?? Date.now,
    proxyIdleTimeoutsMs: idleTimeouts(o.proxyIdleTimeoutMs ?? DEFAULT_PROXY_IDLE_TIMEOUT_MS),
    idleCloseMinMs: nonNegative("idleCloseMinMs", o.idleCloseMinMs, DEFAULT_IDLE_CLOSE_MIN_MS),
    raceCrossingWindowNs: nonNegative("raceCrossingWindowMs", o.raceCrossingWindowMs, DEFAULT_RACE_CROSSING_WINDOW_MS) * 1e6,
  };
}
