// Ships the agent's ordered events to JetStream in protobuf batches, riding out
// NATS restarts and slow acks with a bounded queue that sheds the oldest events
// (and says so) rather than growing without limit or blocking the agent. The
// queue holds encoded batches: events pushed here are cut and encoded by the
// publisher's own BatchCutter, and an agent whose worker thread cuts and
// encodes them hands over the finished batches (pushBatch).
import type { JetStreamClient } from "@nats-io/jetstream";
import { InvalidArgumentError } from "../errors/mod.js";
import { positiveIntervalMs, type ConnEventInit, type KernelNs } from "../model/mod.js";
import { silentLogger, type Logger } from "../log/logger.js";
import type { BatchOrigin } from "./batch-codec.js";
import { BatchCutter, type EncodedBatch } from "./batch-cutter.js";
import { BatchQueue, type Displaced } from "./batch-queue.js";
import { PublisherClosedError } from "./errors.js";
import { eventsSubject } from "./subjects.js";

/** Called when events were dropped, so the agent can publish a GAP event covering them. */
export type DropCallback = (count: number, firstTsNs: KernelNs, lastTsNs: KernelNs) => void;

export interface EventPublisherOptions extends BatchOrigin {
  js: JetStreamClient;
  /** Subject to publish on. Default: `eventsSubject(node)`. */
  subject?: string;
  /** Events per EventBatch message. Default 1000. */
  maxBatchEvents?: number;
  /** Longest an event waits for its batch to fill, whole ms >= 1. Default DEFAULT_MAX_BATCH_DELAY_MS (50). */
  maxBatchDelayMs?: number;
  /** Batches published but not yet acknowledged. Default 4. */
  maxInFlight?: number;
  /**
   * Events held while NATS is away or slow; beyond it the oldest batches are
   * dropped whole and reported through `onDrop`. Default 100 000. Batches
   * being published (at most maxInFlight × maxBatchEvents events) and the
   * batch still filling come on top.
   */
  maxQueuedEvents?: number;
  /** How long one publish waits for its ack, whole ms >= 1. Default DEFAULT_PUBLISH_TIMEOUT_MS (5000). */
  publishTimeoutMs?: number;
  /** First retry delay after a failed publish, doubling up to retryMaxMs, whole ms >= 1. Default DEFAULT_RETRY_INITIAL_MS (100). */
  retryInitialMs?: number;
  /** Longest retry delay, whole ms >= 1. Default DEFAULT_RETRY_MAX_MS (5000). */
  retryMaxMs?: number;
  /**
   * Called once per push() that displaced events. A GAP pushed from here also
   * takes a queue slot, so report drops in aggregate rather than one GAP per call
   * while the queue stays full.
   */
  onDrop?: DropCallback;
  /**
   * Called with each batch as it enters the queue (cut here or pushed), and
   * with each batch JetStream acknowledged, in seq order: what an agent's
   * high-water of read against published events is kept from.
   */
  onQueued?: (batch: EncodedBatch) => void;
  onPublished?: (batch: EncodedBatch) => void;
  /** Default: silent. */
  logger?: Logger;
}

export interface PublisherStats {
  /** Events acknowledged by JetStream. */
  published: number;
  /** Batches acknowledged by JetStream (including duplicates). */
  batches: number;
  /** Acknowledged batches the stream had already stored (a retry of a publish that had succeeded). */
  duplicates: number;
  /** Events dropped because the queue was full, or abandoned at close. */
  dropped: number;
  /** Events pushed but not yet acknowledged. */
  queued: number;
  /** Failed publish attempts (each is retried). */
  publishErrors: number;
}

interface Sent {
  batch: EncodedBatch;
  /**
   * Set the moment JetStream's ack arrives, before the pump gets to it: giving
   * up at the close deadline must count such a batch as published, not dropped.
   */
  acked: boolean;
  /** Given up on at close: a late ack or failure no longer changes the stats. */
  abandoned: boolean;
  /** The latest attempt: true once acked, false if it failed; never rejects. */
  ok: Promise<boolean>;
}

export const DEFAULT_MAX_BATCH_EVENTS = 1000;
export const DEFAULT_MAX_BATCH_DELAY_MS = 50;
export const DEFAULT_MAX_IN_FLIGHT = 4;
export const DEFAULT_MAX_QUEUED_EVENTS = 100_000;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 5000;
export const DEFAULT_RETRY_INITIAL_MS = 100;
export const DEFAULT_RETRY_MAX_MS = 5000;

interface ResolvedOptions {
  maxBatchEvents: number;
  maxBatchDelayMs: number;
  maxInFlight: number;
  maxQueuedEvents: number;
  publishTimeoutMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

/**
 * The caller's options over the defaults, checked once. Every timer option
 * must be at least 1 ms: a retry delay of 0 doubles to 0 and hammers a server
 * that is down, and Node runs a 0 or negative timer after 1 ms anyway.
 */
function resolveOptions(opts: EventPublisherOptions): ResolvedOptions {
  const r: ResolvedOptions = {
    maxBatchEvents: opts.maxBatchEvents ?? DEFAULT_MAX_BATCH_EVENTS,
    maxBatchDelayMs: positiveIntervalMs("maxBatchDelayMs", opts.maxBatchDelayMs, DEFAULT_MAX_BATCH_DELAY_MS),
    maxInFlight: opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
    maxQueuedEvents: opts.maxQueuedEvents ?? DEFAULT_MAX_QUEUED_EVENTS,
    publishTimeoutMs: positiveIntervalMs("publishTimeoutMs", opts.publishTimeoutMs, DEFAULT_PUBLISH_TIMEOUT_MS),
    retryInitialMs: positiveIntervalMs("retryInitialMs", opts.retryInitialMs, DEFAULT_RETRY_INITIAL_MS),
    retryMaxMs: positiveIntervalMs("retryMaxMs", opts.retryMaxMs, DEFAULT_RETRY_MAX_MS),
  };
  for (const k of ["maxBatchEvents", "maxInFlight", "maxQueuedEvents"] as const) {
    if (!Number.isInteger(r[k]) || r[k] < 1) throw InvalidArgumentError.format(k, `must be an integer >= 1, got ${r[k]}`);
  }
  return r;
}

/**
 * Ordering: batches go out in seq order over one connection, so the stream
 * stores them in order. When a publish fails, the publisher stops cutting new
 * batches, lets every publish already sent settle, and re-sends the failed ones
 * oldest first, one at a time, before resuming. A batch whose ack was lost is
 * stored once thanks to its deterministic msgID.
 */
export class EventPublisher {
  readonly subject: string;
  readonly #js: JetStreamClient;
  readonly #origin: BatchOrigin;
  readonly #opts: ResolvedOptions;
  readonly #onDrop: DropCallback | undefined;
  readonly #onQueued: ((batch: EncodedBatch) => void) | undefined;
  readonly #onPublished: ((batch: EncodedBatch) => void) | undefined;
  readonly #log: Logger;
  readonly #queue: BatchQueue;
  readonly #cutter: BatchCutter;
  readonly #displaced: Displaced = { count: 0, firstTsNs: 0n, lastTsNs: 0n };
  readonly #window: Sent[] = [];
  #windowEvents = 0;
  #stats = { published: 0, batches: 0, duplicates: 0, dropped: 0, publishErrors: 0 };

  #pumping = false;
  /** Wakes the pump while it waits on an ack: a batch became ready or the publisher is closing. */
  #wake: (() => void) | undefined;
  #flushers = 0;
  #idleWaiters: (() => void)[] = [];
  #closed = false;
  /** Set at the close deadline: stop retrying and give up on what is left. */
  readonly #abandon = new AbortController();
  #errorStreak = 0;
  #lastDropLog = 0;

  constructor(opts: EventPublisherOptions) {
    this.#js = opts.js;
    this.#origin = { node: opts.node, bootId: opts.bootId, agentStartUs: opts.agentStartUs };
    this.subject = opts.subject ?? eventsSubject(opts.node);
    this.#opts = resolveOptions(opts);
    this.#onDrop = opts.onDrop;
    this.#onQueued = opts.onQueued;
    this.#onPublished = opts.onPublished;
    this.#log = opts.logger ?? silentLogger;
    this.#queue = new BatchQueue(this.#opts.maxQueuedEvents);
    this.#cutter = new BatchCutter({
      origin: this.#origin,
      maxBatchEvents: this.#opts.maxBatchEvents,
      maxBatchDelayMs: this.#opts.maxBatchDelayMs,
      onBatch: (batch) => this.#enqueue(batch),
    });
  }

  /** The batching settings, for a producer that cuts and encodes batches itself (pushBatch). */
  get batching(): { origin: BatchOrigin; maxBatchEvents: number; maxBatchDelayMs: number } {
    return { origin: { ...this.#origin }, maxBatchEvents: this.#opts.maxBatchEvents, maxBatchDelayMs: this.#opts.maxBatchDelayMs };
  }

  /** Queue events (already in seq order) for publishing. Never blocks; drops the oldest when full. */
  push(events: readonly ConnEventInit[]): void {
    if (this.#closed) throw new PublisherClosedError("event publisher is closed");
    this.#cutter.push(events);
  }

  /**
   * Queue a batch already cut and encoded elsewhere (the agent's worker), with
   * this publisher's origin and seqs following the previous batch's. Never
   * blocks; drops the oldest batches when full.
   */
  pushBatch(batch: EncodedBatch): void {
    if (this.#closed) throw new PublisherClosedError("event publisher is closed");
    this.#enqueue(batch);
  }

  stats(): PublisherStats {
    return { ...this.#stats, queued: this.#queue.size + this.#cutter.size + this.#windowEvents };
  }

  /**
   * Publish everything queued now, without waiting for batches to fill, and
   * resolve when nothing is left unacknowledged. Resolves false if timeoutMs
   * passed first (the events stay queued).
   */
  async flush(timeoutMs = Infinity): Promise<boolean> {
    this.#flushers++;
    try {
      this.#cutter.flush();
      this.#kick();
      return await this.#idle(timeoutMs);
    } finally {
      this.#flushers--;
    }
  }

  /**
   * Stop accepting events, publish what can be within timeoutMs (default 5000),
   * then give up on the rest, counting it as dropped. Returns the final stats.
   */
  async close(timeoutMs = 5000): Promise<PublisherStats> {
    if (!this.#closed) {
      this.#closed = true;
      this.#cutter.flush();
      this.#cutter.stop();
      this.#kick();
      const done = await this.#idle(timeoutMs);
      if (!done) {
        this.#abandon.abort();
        this.#wake?.();
        await this.#idle(Infinity);
      }
    }
    return this.stats();
  }

  #reportDrop(d: Displaced): void {
    this.#stats.dropped += d.count;
    const now = Date.now();
    if (now - this.#lastDropLog >= 1000) {
      this.#lastDropLog = now;
      this.#log.warn({ dropped: d.count, totalDropped: this.#stats.dropped }, "event queue full: dropped oldest events");
    }
    try {
      this.#onDrop?.(d.count, d.firstTsNs, d.lastTsNs);
    } catch (e) {
      this.#log.error({ err: e }, "onDrop callback threw");
    }
  }

  #enqueue(batch: EncodedBatch): void {
    try {
      this.#onQueued?.(batch);
    } catch (e) {
      this.#log.error({ err: e }, "onQueued callback threw");
    }
    const d = this.#displaced;
    d.count = 0;
    this.#queue.push(batch, d);
    if (d.count > 0) this.#reportDrop(d);
    this.#kick();
  }

  #kick(): void {
    if (this.#pumping) this.#wake?.();
    else void this.#pump();
  }

  #next(): EncodedBatch {
    const batch = this.#queue.shift()!;
    this.#windowEvents += batch.count;
    return batch;
  }

  async #pump(): Promise<void> {
    this.#pumping = true;
    try {
      for (;;) {
        if (this.#abandon.signal.aborted) {
          this.#giveUp();
          break;
        }
        const window = this.#window;
        while (window.length < this.#opts.maxInFlight && this.#queue.length > 0) {
          window.push(this.#send(this.#next()));
        }
        const head = window[0];
        if (!head) break;
        // Wait for the oldest ack, or for a reason to cut another batch meanwhile.
        const acked = await new Promise<boolean | undefined>((resolve) => {
          this.#wake = () => resolve(undefined);
          head.ok.then(resolve);
        });
        this.#wake = undefined;
        if (acked === undefined) continue;
        if (acked) {
          window.shift();
          this.#settled(head.batch);
        } else {
          await this.#recover();
        }
      }
    } catch (e) {
      // Not expected (publish never rejects): log rather than lose the pump silently.
      this.#log.error({ err: e }, "event publisher pump failed");
    } finally {
      this.#pumping = false;
      this.#wake = undefined;
    }
    if (this.#isIdle()) {
      for (const w of this.#idleWaiters.splice(0)) w();
    } else if (this.#queue.length > 0) {
      void this.#pump(); // something became ready while we were leaving
    }
  }

  /**
   * A publish in the window failed: settle the window, then re-send failures in
   * order. Each batch leaves the window as soon as it is settled, so that giving
   * up at the deadline in the middle of this never counts it a second time.
   */
  async #recover(): Promise<void> {
    const window = this.#window;
    await Promise.all(window.map((s) => s.ok));
    let delay = this.#opts.retryInitialMs;
    for (let sent = window[0]; sent; sent = window[0]) {
      while (!sent.acked) {
        if (this.#abandon.signal.aborted) return this.#giveUp();
        await this.#sleep(delay + Math.random() * delay * 0.2);
        delay = Math.min(delay * 2, this.#opts.retryMaxMs);
        if (this.#abandon.signal.aborted) return this.#giveUp();
        sent.ok = this.#publish(sent);
        await sent.ok;
      }
      window.shift();
      this.#settled(sent.batch);
    }
  }

  /**
   * At the close deadline: a batch whose ack already arrived is published,
   * whether or not the pump had got to it; everything never acknowledged
   * counts as dropped, reported as one hole per run of consecutive events.
   */
  #giveUp(): void {
    let hole: Displaced = { count: 0, firstTsNs: 0n, lastTsNs: 0n };
    for (const sent of this.#window) {
      const { batch } = sent;
      if (sent.acked) {
        this.#settled(batch);
        if (hole.count > 0) this.#reportDrop(hole);
        hole = { count: 0, firstTsNs: 0n, lastTsNs: 0n };
        continue;
      }
      sent.abandoned = true;
      this.#windowEvents -= batch.count;
      if (hole.count === 0) hole.firstTsNs = batch.firstTsNs;
      hole.lastTsNs = batch.lastTsNs;
      // In kernel events, as the queue counts what it sheds (batch-queue.ts).
      hole.count += batch.count - (batch.gaps ?? 0) + (batch.gapLost ?? 0);
    }
    this.#window.length = 0;
    // Queued events come after every batch in the window: they extend the last hole.
    this.#queue.clear(hole);
    if (hole.count > 0) this.#reportDrop(hole);
  }

  #settled(batch: EncodedBatch): void {
    this.#windowEvents -= batch.count;
    this.#stats.published += batch.count;
    this.#stats.batches++;
    try {
      this.#onPublished?.(batch);
    } catch (e) {
      this.#log.error({ err: e }, "onPublished callback threw");
    }
  }

  #send(batch: EncodedBatch): Sent {
    const sent: Sent = { batch, acked: false, abandoned: false, ok: Promise.resolve(false) };
    sent.ok = this.#publish(sent);
    return sent;
  }

  async #publish(sent: Sent): Promise<boolean> {
    const { batch } = sent;
    try {
      const ack = await this.#js.publish(this.subject, batch.bytes, {
        msgID: batch.msgID,
        timeout: this.#opts.publishTimeoutMs,
      });
      // close() already counted it as dropped and returned its final stats.
      if (sent.abandoned) return true;
      sent.acked = true;
      if (ack.duplicate) this.#stats.duplicates++;
      if (this.#errorStreak > 0) {
        this.#log.info({ failedAttempts: this.#errorStreak }, "publishing events again");
        this.#errorStreak = 0;
      }
      return true;
    } catch (e) {
      if (sent.abandoned) return false;
      this.#stats.publishErrors++;
      // One warning per outage, not one per attempt.
      if (this.#errorStreak++ === 0) this.#log.warn({ err: e, subject: this.subject }, "event publish failed, retrying");
      return false;
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const signal = this.#abandon.signal;
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Nothing queued, filling or unacknowledged. */
  #isIdle(): boolean {
    return this.#queue.length === 0 && this.#cutter.size === 0 && this.#window.length === 0;
  }

  #idle(timeoutMs: number): Promise<boolean> {
    if (this.#isIdle() && !this.#pumping) return Promise.resolve(true);
    return new Promise((resolve) => {
      let t: NodeJS.Timeout | undefined;
      const waiter = () => {
        clearTimeout(t);
        resolve(true);
      };
      this.#idleWaiters.push(waiter);
      if (Number.isFinite(timeoutMs)) {
        t = setTimeout(() => {
          const i = this.#idleWaiters.indexOf(waiter);
          if (i >= 0) this.#idleWaiters.splice(i, 1);
          resolve(false);
        }, timeoutMs);
      }
    });
  }
}
