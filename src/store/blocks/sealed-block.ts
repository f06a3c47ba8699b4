// A block as the store writes it and reads it back: the traces sorted by
// start time (then id), encoded, compressed, summarized and keyed.
import type { Trace, TraceInit } from "../../model/mod.js";
import { summarize, type BlockSummary } from "./block-summary.js";
import { compressBlock, decompressBlock } from "./compress.js";
import { decodeBlock, findInBlock } from "./decode-block.js";
import { encodeBlock } from "./encode-block.js";
import { traceKey } from "./trace-key.js";

export interface SealedBlock extends BlockSummary {
  /** The compressed TraceBlock. */
  body: Buffer;
  /** traceKey of every trace, in block order. */
  keys: number[];
}

/** Oldest first by start time, then by trace id: the block order (listTraces walks it backwards). */
export function compareByStart(a: TraceInit, b: TraceInit): number {
  const ai = a.traceId ?? "";
  const bi = b.traceId ?? "";
  return Number(a.startUs ?? 0) - Number(b.startUs ?? 0) || (ai < bi ? -1 : ai > bi ? 1 : 0);
}

/** Seal `traces` (sorted here; the array is left as it was given). */
export function sealBlock(traces: readonly TraceInit[]): SealedBlock {
  const sorted = [...traces].sort(compareByStart);
  return {
    ...summarize(sorted),
    body: compressBlock(encodeBlock(sorted)),
    keys: sorted.map((t) => traceKey(t.traceId ?? "")),
  };
}

/** The traces of a sealed body, in block order (by start, then id). */
export function openBlock(body: Uint8Array): Trace[] {
  return decodeBlock(decompressBlock(body));
}

/** The trace with this id in a sealed body, and its position in block order; null when the block does not hold it. */
export function findInSealed(body: Uint8Array, traceId: string): { index: number; trace: Trace } | null {
  return findInBlock(decompressBlock(body), traceId);
}
