// What a query learns about a sealed block without decompressing it: its time
// ranges, which outcomes and reset-origin roles occur, and a Bloom filter over
// the pods, addresses, ports and socket ids of its hop endpoints.
import type { TraceInit } from "../../model/mod.js";
import { bloomKey, buildBloom } from "./bloom.js";
import { maskBit, traceEndForOverlap, traceLastUs } from "./trace-times.js";

export interface BlockSummary {
  count: number;
  minStartUs: number;
  maxStartUs: number;
  minLastUs: number;
  maxLastUs: number;
  /** The latest end, OPEN_END_US when a trace is still open: `since` skips a block by it. */
  maxEndUs: number;
  /** Bit i (maskBit): some trace has outcome i. */
  outcomes: number;
  /** Bit i: some trace's reset origin has role i (0 when nothing failed). */
  roles: number;
  filter: Uint8Array;
}

/**
 * The distinct values a block's Bloom keys are made of, gathered per kind so
 * that a key string is built once per distinct value, not once per endpoint
 * (pods and addresses repeat in every trace of a pod pair).
 */
export class TraceKeyValues {
  readonly #pods = new Set<string>();
  readonly #ips = new Set<string>();
  readonly #ports = new Set<number>();
  readonly #addrs = new Map<string, Set<number>>();
  readonly #socks = new Set<string>();
  /** Label pairs as their Bloom keys: a pod's labels repeat in every trace of it. */
  readonly #labels = new Set<string>();
  readonly #labelObjects = new Set<object>();

  /** A trace's hop endpoints (an absent endpoint reads as the empty one, as listTraces matches it). */
  add(t: TraceInit): void {
    for (const h of t.hops ?? []) {
      this.#endpoint(h.client);
      this.#endpoint(h.server);
    }
  }

  #endpoint(
    e: { ip?: string | null; port?: number | null; pod?: string | null; socketId?: string | null; labels?: { [k: string]: string } | null } | null | undefined,
  ): void {
    const ip = e?.ip ?? "";
    const port = e?.port ?? 0;
    this.#pods.add(e?.pod ?? "");
    this.#ips.add(ip);
    this.#ports.add(port);
    let ports = this.#addrs.get(ip);
    if (!ports) this.#addrs.set(ip, (ports = new Set()));
    ports.add(port);
    if (e?.socketId) this.#socks.add(e.socketId);
    const labels = e?.labels;
    // Traces from one stitcher share nothing, but decoded ones may: skip an object already walked.
    if (labels != null && !this.#labelObjects.has(labels)) {
      this.#labelObjects.add(labels);
      for (const k in labels) this.#labels.add(bloomKey.label(k, labels[k]!));
    }
  }

  /** Every Bloom key (bloomKey) of what was added. */
  keys(): Set<string> {
    const keys = new Set<string>();
    for (const pod of this.#pods) keys.add(bloomKey.pod(pod));
    for (const ip of this.#ips) keys.add(bloomKey.ip(ip));
    for (const port of this.#ports) keys.add(bloomKey.port(port));
    for (const [ip, ports] of this.#addrs) for (const port of ports) keys.add(bloomKey.addr(ip, port));
    for (const id of this.#socks) keys.add(bloomKey.sock(id));
    for (const l of this.#labels) keys.add(l);
    return keys;
  }
}

export function summarize(traces: readonly TraceInit[]): BlockSummary {
  const s = {
    count: traces.length,
    minStartUs: Number.MAX_SAFE_INTEGER,
    maxStartUs: 0,
    minLastUs: Number.MAX_SAFE_INTEGER,
    maxLastUs: 0,
    maxEndUs: 0,
    outcomes: 0,
    roles: 0,
  };
  const values = new TraceKeyValues();
  for (const t of traces) {
    const start = Number(t.startUs ?? 0);
    const last = traceLastUs(t);
    s.minStartUs = Math.min(s.minStartUs, start);
    s.maxStartUs = Math.max(s.maxStartUs, start);
    s.minLastUs = Math.min(s.minLastUs, last);
    s.maxLastUs = Math.max(s.maxLastUs, last);
    s.maxEndUs = Math.max(s.maxEndUs, traceEndForOverlap(t));
    s.outcomes |= maskBit(t.outcome);
    s.roles |= maskBit(t.resetOrigin?.role);
    values.add(t);
  }
  if (traces.length === 0) s.minStartUs = s.minLastUs = 0;
  return { ...s, filter: buildBloom(values.keys()) };
}
