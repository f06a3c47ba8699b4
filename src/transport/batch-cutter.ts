// Cuts the agent's ordered events into EventBatch messages, encoded at once:
// a batch closes when it holds maxBatchEvents or its first event has waited
// maxBatchDelayMs. It runs wherever the events are (the agent's worker thread
// or the publisher's), so what crosses to the publisher is bytes, not
// thousands of event objects.
import type { ConnEventInit, KernelNs } from "../model/mod.js";
import { batchMsgId, encodeBatch, type BatchOrigin } from "./batch-codec.js";

/** An EventBatch ready to publish, with what the publisher needs to account for it. */
export interface EncodedBatch {
  firstSeq: number;
  /** Events in the batch. */
  count: number;
  /** Kernel times of its first and last event (in seq order): a dropped batch's hole. */
  firstTsNs: KernelNs;
  lastTsNs: KernelNs;
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

export class BatchCutter {
  readonly #o: BatchCutterOptions;
  #open: ConnEventInit[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(o: BatchCutterOptions) {
    this.#o = o;
  }

  /** Events in the batch not closed yet. */
  get size(): number {
    return this.#open.length;
  }

  /** Add events (in seq order); full batches are encoded and handed on now. */
  push(events: readonly ConnEventInit[]): void {
    const max = this.#o.maxBatchEvents;
    let open = this.#open;
    for (let i = 0; i < events.length; i++) {
      open.push(events[i]!);
      if (open.length >= max) {
        this.#close();
        open = this.#open;
      }
    }
    if (open.length > 0 && this.#timer === undefined) {
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
    if (this.#open.length > 0) this.#close();
  }

  /** Stop the delay timer (the open batch, if any, stays: flush() first). */
  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #close(): void {
    const events = this.#open;
    this.#open = [];
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const first = events[0]!;
    const firstSeq = first.seq ?? 0;
    this.#o.onBatch({
      firstSeq,
      count: events.length,
      firstTsNs: first.tsNs,
      lastTsNs: events[events.length - 1]!.tsNs,
      msgID: batchMsgId(this.#o.origin, firstSeq),
      bytes: encodeBatch(this.#o.origin, events),
    });
  }
}
