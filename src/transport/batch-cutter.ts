// Cuts the agent's ordered events into EventBatch messages: a batch closes
// when it holds maxBatchEvents or its first event has waited maxBatchDelayMs.
// It runs wherever the events are (the agent's worker thread or the
// publisher's), so what crosses to the publisher is bytes, not thousands of
// event objects. Each event is encoded the moment it is pushed, into the open
// batch's reused writer: the cutter keeps no event, so the agent can reuse
// the objects for the next lines, and a batch costs one copy of its bytes.
import { EventKind, baseSecondsOf, type ConnEventInit, type KernelNs } from "../model/mod.js";
import { batchMsgId, type BatchOrigin } from "./batch-codec.js";
import { writeBatchHeader, writeEvent } from "./event-encoder.js";
import { PodDirectory } from "./pod-directory.js";
import { WireWriter } from "./wire-writer.js";

/** An EventBatch ready to publish, with what the publisher needs to account for it. */
export interface EncodedBatch {
  firstSeq: number;
  /** Events in the batch. */
  count: number;
  /** Kernel times of its first and last event (in seq order): a dropped batch's hole. */
  firstTsNs: KernelNs;
  lastTsNs: KernelNs;
  /**
   * GAP events in the batch, and the kernel events their `lost` says are
   * missing: a batch that is never published takes those reports with it,
   * so whoever counts its loss counts them too (unknown, 0, when absent).
   */
  gaps?: number;
  gapLost?: number;
  /** Wall-clock µs of its last event (unknown when absent). */
  lastTimeUs?: number;
  /** JetStream message id: a retried publish of the same batch is stored once. */
  msgID: string;
  bytes: Uint8Array;
}

export interface BatchCutterOptions {
  origin: BatchOrigin;
  /** Events per batch, integer >= 1. */
  maxBatchEvents: number;
  /** Longest an event waits for its batch to fill, whole ms >= 1. */
  maxBatchDelayMs: number;
  /** Each batch as it is closed, in seq order. */
  onBatch(batch: EncodedBatch): void;
}

const NS_PER_S = 1_000_000_000n;
const MAX_SAFE_NS = BigInt(Number.MAX_SAFE_INTEGER);

export class BatchCutter {
  readonly #o: BatchCutterOptions;
  readonly #writer = new WireWriter();
  // Labelled pods the open batch's events name: written once each, after them.
  readonly #pods = new PodDirectory();
  #timer: NodeJS.Timeout | undefined;
  // The open batch: its events are already bytes in #writer.
  #count = 0;
  #firstSeq = 0;
  #firstTsNs: KernelNs = 0n;
  #lastTsNs: KernelNs = 0n;
  #lastTimeUs = 0;
  #gaps = 0;
  #gapLost = 0;
  #baseS = 0;
  #baseNs: KernelNs = 0n;
  #baseNum = 0;

  constructor(o: BatchCutterOptions) {
    this.#o = o;
  }

  /** Events in the batch not closed yet. */
  get size(): number {
    return this.#count;
  }

  /**
   * Add events (in seq order); full batches are handed on now. The events
   * are encoded before this returns and not kept: the caller may reuse them.
   */
  push(events: readonly ConnEventInit[]): void {
    const max = this.#o.maxBatchEvents;
    for (let i = 0; i < events.length; i++) {
      const ev = events[i]!;
      // The base is the batch's earliest second (as encodeBatch picks it), and
      // offsets are unsigned: an event the agent released late, from before
      // that second, starts a batch of its own.
      if (this.#count > 0 && ev.tsNs < this.#baseNs) this.#close();
      if (this.#count === 0) this.#open(ev);
      writeEvent(this.#writer, ev, this.#baseNs, this.#baseNum);
      this.#pods.note(ev);
      this.#count++;
      this.#lastTsNs = ev.tsNs;
      this.#lastTimeUs = ev.timeUs ?? 0;
      if (ev.kind === EventKind.EVENT_KIND_GAP) {
        this.#gaps++;
        this.#gapLost += ev.lost ?? 0;
      }
      if (this.#count >= max) this.#close();
    }
    if (this.#count > 0 && this.#timer === undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.flush();
      }, this.#o.maxBatchDelayMs);
      // The batch delay alone must not keep a process (or a worker) alive.
      this.#timer.unref?.();
    }
  }

  /** Close the open batch now, however small. */
  flush(): void {
    if (this.#count > 0) this.#close();
  }

  /** Stop the delay timer (the open batch, if any, stays: flush() first). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #open(first: ConnEventInit): void {
    this.#firstSeq = first.seq ?? 0;
    this.#firstTsNs = first.tsNs;
    this.#gaps = 0;
    this.#gapLost = 0;
    this.#baseS = baseSecondsOf(first.tsNs);
    this.#baseNs = BigInt(this.#baseS) * NS_PER_S;
    this.#baseNum = this.#baseNs <= MAX_SAFE_NS ? Number(this.#baseNs) : -1;
    this.#writer.reset();
    this.#pods.clear();
    // Everything the header says is known from the first event: the bytes are encodeBatch's.
    writeBatchHeader(this.#writer, { ...this.#o.origin, firstSeq: this.#firstSeq, baseS: this.#baseS });
  }

  #close(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const w = this.#writer;
    this.#pods.writeAndClear(w);
    const batch: EncodedBatch = {
      firstSeq: this.#firstSeq,
      count: this.#count,
      firstTsNs: this.#firstTsNs,
      lastTsNs: this.#lastTsNs,
      gaps: this.#gaps,
      gapLost: this.#gapLost,
      lastTimeUs: this.#lastTimeUs,
      msgID: batchMsgId(this.#o.origin, this.#firstSeq),
      bytes: w.finish(),
    };
    this.#count = 0;
    w.reset();
    this.#o.onBatch(batch);
  }
}
