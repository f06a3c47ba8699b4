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

/** Every Bloom key of a trace's hop endpoints (an absent endpoint reads as the empty one, as listTraces matches it). */
export function addTraceKeys(t: TraceInit, keys: Set<string>): void {
  for (const h of t.hops ?? []) {
    for (const e of [h.client, h.server]) {
      const ip = e?.ip ?? "";
      const port = e?.port ?? 0;
      keys.add(bloomKey.pod(e?.pod ?? ""));
      keys.add(bloomKey.ip(ip));
      keys.add(bloomKey.port(port));
      keys.add(bloomKey.addr(ip, port));
      if (e?.socketId) keys.add(bloomKey.sock(e.socketId));
    }
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
  const keys = new Set<string>();
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
    addTraceKeys(t, keys);
  }
  if (traces.length === 0) s.minStartUs = s.minLastUs = 0;
  return { ...s, filter: buildBloom(keys) };
}
