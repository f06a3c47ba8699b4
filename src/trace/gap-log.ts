// The agent gaps each node reported (EVENT_KIND_GAP): a span of kernel time
// in which events were lost, with how many. Sockets only carry a flag that a
// gap overlapped them (socket-table.ts); a trace that has such sockets looks
// its gaps up here to say how much of its connection went unseen.
import type { KernelNs } from "../model/mod.js";

/**
 * Gaps kept per stitcher: they are rare (agent restarts, lost perf events),
 * and a trace's sockets are at most maxAgeMs old, so the newest few thousand
 * cover every trace still being built.
 */
export const DEFAULT_GAPS_KEPT = 4096;

export interface GapRecord {
  node: number;
  startNs: KernelNs;
  endNs: KernelNs;
  /** Kernel events counted lost. */
  lost: number;
  /** Kernel events estimated hidden where nobody could count them (bpftrace dead). */
  estimatedLost: number;
}

/** What the gaps that overlapped one connection add up to (times are wall µs). */
export interface GapOverlapFacts {
  gaps: number;
  startUs: number;
  endUs: number;
  lost: number;
  estimatedLost: number;
}

export class GapLog {
  readonly #gaps: GapRecord[] = [];
  readonly #kept: number;

  constructor(kept = DEFAULT_GAPS_KEPT) {
    this.#kept = kept;
  }

  record(g: GapRecord): void {
    this.#gaps.push(g);
    if (this.#gaps.length > this.#kept) this.#gaps.splice(0, this.#gaps.length - this.#kept);
  }

  /** The gaps of node `node` that overlap [fromNs, toNs] (toNs 0n: still open). */
  overlapping(node: number, fromNs: KernelNs, toNs: KernelNs): GapRecord[] {
    return this.#gaps.filter((g) => g.node === node && g.endNs >= fromNs && (toNs === 0n || g.startNs <= toNs));
  }
}

/** "3 events lost", "about 120 events unseen", both, or that nobody counted. */
export function gapLossText(f: Pick<GapOverlapFacts, "lost" | "estimatedLost">): string {
  const events = (n: number) => `${n} event${n === 1 ? "" : "s"}`;
  if (f.lost > 0 && f.estimatedLost > 0) return `${events(f.lost)} lost, about ${events(f.estimatedLost)} more unseen`;
  if (f.lost > 0) return `${events(f.lost)} lost`;
  if (f.estimatedLost > 0) return `about ${events(f.estimatedLost)} unseen`;
  return "events lost, not counted";
}
