// What one agent run read and never got published, counted in kernel events
// from the publisher's own accounting: every batch queued, every batch
// JetStream acknowledged, and every drop a GAP in the stream already reports.
// What is left when the run stops (NATS away, the close deadline passed, the
// pipeline worker died) is reported by the next start in a GAP, from the
// record this ledger writes (high-water-file.ts).
//
//   unpublished = (read but never queued)
//               + (queued, with the losses their GAP markers report)
//               − (acknowledged, likewise) − (shed while a GAP could still report it)
//
// A shed batch's events come back in the GAP marker the pipeline makes for
// the drop: counted once there if that marker is never published, and
// covered if it is. Drops at close have no marker to come: they stay counted.
import type { KernelNs } from "../model/mod.js";
import type { BatchOrigin, EncodedBatch } from "../transport/mod.js";

export const HIGH_WATER_RECORD_VERSION = 1;

/** One run's high-water, as saved in the agent's state dir. Plain JSON (kernel ns as decimal strings). */
export interface HighWaterRecord {
  version: typeof HIGH_WATER_RECORD_VERSION;
  node: string;
  bootId: string;
  agentStartUs: number;
  /** Highest seq the run queued for publishing (its GAP follows it). */
  lastSeq: number;
  /** Kernel events read and neither published nor reported lost by a published GAP. */
  unpublished: number;
  /** Kernel ns: after the last published event (or at the first queued one when none was). */
  spanStartNs: string;
  /** Kernel ns of the newest event queued. */
  spanEndNs: string;
  /** Wall-clock µs of the newest event queued (0 when none was). */
  timeUs: number;
  /** Written when the run stopped (the count is exact), not by a periodic save (the run may have crashed after it). */
  final: boolean;
  savedAtMs: number;
}

const DECIMAL = /^\d+$/;

export function isHighWaterRecord(v: unknown): v is HighWaterRecord {
  if (typeof v !== "object" || v === null) return false;
  const r = v as Record<string, unknown>;
  const count = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  return (
    r.version === HIGH_WATER_RECORD_VERSION &&
    typeof r.node === "string" &&
    r.node.length > 0 &&
    typeof r.bootId === "string" &&
    count(r.agentStartUs) &&
    count(r.lastSeq) &&
    count(r.unpublished) &&
    typeof r.spanStartNs === "string" &&
    DECIMAL.test(r.spanStartNs) &&
    typeof r.spanEndNs === "string" &&
    DECIMAL.test(r.spanEndNs) &&
    count(r.timeUs) &&
    typeof r.final === "boolean" &&
    count(r.savedAtMs)
  );
}

const kernelEvents = (b: EncodedBatch): number => b.count - (b.gaps ?? 0) + (b.gapLost ?? 0);

export class UnpublishedLedger {
  readonly origin: BatchOrigin;
  #queued = 0;
  #queuedKernel = 0;
  #published = 0;
  #shed = 0;
  #closing = false;
  #lastSeq = 0;
  #firstTsNs: KernelNs | undefined;
  #lastTsNs: KernelNs | undefined;
  #lastTimeUs = 0;
  #publishedTsNs: KernelNs | undefined;

  constructor(origin: BatchOrigin) {
    this.origin = { ...origin };
  }

  /** The publisher queued a batch (EventPublisher onQueued). */
  queued(b: EncodedBatch): void {
    this.#queued += kernelEvents(b);
    this.#queuedKernel += b.count - (b.gaps ?? 0);
    this.#lastSeq = Math.max(this.#lastSeq, b.firstSeq + b.count - 1);
    this.#firstTsNs ??= b.firstTsNs;
    this.#lastTsNs = this.#lastTsNs === undefined || b.lastTsNs > this.#lastTsNs ? b.lastTsNs : this.#lastTsNs;
    if (b.lastTimeUs) this.#lastTimeUs = Math.max(this.#lastTimeUs, b.lastTimeUs);
  }

  /** JetStream acknowledged a batch (EventPublisher onPublished, in seq order). */
  published(b: EncodedBatch): void {
    this.#published += kernelEvents(b);
    this.#publishedTsNs = b.lastTsNs;
  }

  /**
   * The publisher dropped `count` events. Returns whether a GAP in the stream
   * can still report them (forward the drop to the agent then): not once the
   * run is closing, when they stay counted here.
   */
  dropped(count: number): boolean {
    if (this.#closing) return false;
    this.#shed += count;
    return true;
  }

  /** From now on drops are the run's own loss (the pipeline stops: no GAP can report them). */
  close(): void {
    this.#closing = true;
  }

  /** Kernel events unpublished and unreported now, given the pipeline's count of events read. */
  unpublished(eventsRead: number): number {
    const neverQueued = Math.max(0, eventsRead - this.#queuedKernel);
    return neverQueued + Math.max(0, this.#queued - this.#published - this.#shed);
  }

  record(eventsRead: number, final: boolean, nowMs = Date.now()): HighWaterRecord {
    const start = this.#publishedTsNs ?? this.#firstTsNs ?? 0n;
    const end = this.#lastTsNs ?? start;
    return {
      version: HIGH_WATER_RECORD_VERSION,
      ...this.origin,
      lastSeq: this.#lastSeq,
      unpublished: this.unpublished(eventsRead),
      spanStartNs: String(start),
      spanEndNs: String(end > start ? end : start),
      timeUs: this.#lastTimeUs,
      final,
      savedAtMs: nowMs,
    };
  }
}
