// The agent's heartbeat: an idle node and a stalled one send the same thing,
// nothing, so the consumer's stitcher could only hold what waits on a silent
// node up to its stall limit (30 s) whichever it was. A heartbeat tells them
// apart: an agent that published nothing for an interval says how far its
// event time has got, and the consumer moves that node's time there at once;
// a stalled agent (SIGSTOP, long GC) sends none and is waited for as before.
//
// The watermark is only ever what is true: the pipeline's released horizon
// (every event read up to it was released, with a seq up to its seq), sent
// once JetStream acked every seq up to that one. Never the wall clock.
import type { ReleasedHorizon } from "../agent/mod.js";
import type { Logger } from "../log/logger.js";
import { positiveIntervalMs } from "../model/mod.js";
import { encodeHeartbeat, heartbeatsSubject, type BatchOrigin } from "../transport/mod.js";

/**
 * How often an idle agent says how far its event time has got. A trace that
 * waits on an idle node settles within about two of these after its own
 * settle time; a busy node sends none (its batches move its time).
 */
export const DEFAULT_HEARTBEAT_MS = 1000;

/** What the publisher has done, as the heartbeat needs it. */
export interface PublishedProgress {
  /** The highest seq JetStream acked (0: none yet). */
  ackedThroughSeq: number;
  /** Batches queued, acked or dropped so far: a change means the node was not idle. */
  activity: number;
}

export interface HeartbeatSenderOptions {
  origin: BatchOrigin;
  /** Sends one heartbeat (core NATS publish). */
  publish(subject: string, data: Uint8Array): void;
  /** The pipeline's released horizon (Agent.horizon). */
  horizon(): ReleasedHorizon | undefined;
  published(): PublishedProgress;
  /** Whole ms >= 1. Default DEFAULT_HEARTBEAT_MS. */
  intervalMs?: number;
  logger: Logger;
}

export class HeartbeatSender {
  readonly #o: HeartbeatSenderOptions;
  readonly #subject: string;
  readonly intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #activity = -1;
  #sentNs = 0n;
  #sent = 0;

  constructor(o: HeartbeatSenderOptions) {
    this.#o = o;
    this.#subject = heartbeatsSubject(o.origin.node);
    this.intervalMs = positiveIntervalMs("heartbeatMs", o.intervalMs, DEFAULT_HEARTBEAT_MS);
  }

  /** Heartbeats sent. */
  get sent(): number {
    return this.#sent;
  }

  start(): void {
    this.#timer ??= setInterval(() => this.tick(), this.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One interval's decision: send a heartbeat if the node was idle and the horizon moved. Returns whether it sent. */
  tick(): boolean {
    const p = this.#o.published();
    // Published (or dropped) something this interval: the batches say it all, a busy node pays nothing.
    const busy = p.activity !== this.#activity;
    this.#activity = p.activity;
    if (busy) return false;
    const h = this.#o.horizon();
    // Nothing released yet (the consumer cannot know this node), or released events not all acked yet.
    if (h === undefined || h.seq === 0 || h.seq > p.ackedThroughSeq || h.tsNs <= this.#sentNs) return false;
    try {
      this.#o.publish(this.#subject, encodeHeartbeat({ ...this.#o.origin, lastSeq: h.seq, watermarkNs: h.tsNs, watermarkTimeUs: h.timeUs }));
    } catch (err) {
      // A closed or reconnecting connection: the next interval tries again.
      this.#o.logger.debug({ err }, "heartbeat not sent");
      return false;
    }
    this.#sentNs = h.tsNs;
    this.#sent++;
    return true;
  }
}
