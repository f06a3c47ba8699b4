// Reading the events stream for people (observe) and tools: an ordered,
// ack-less consumer that skips what it cannot decode instead of dying on it.
import {
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type Consumer,
  type ConsumerMessages,
  type OrderedConsumerOptions,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { silentLogger, type Logger } from "../log/logger.js";
import { decodeBatch, type DecodedBatch } from "./batch-codec.js";
import { EVENTS_STREAM } from "./streams.js";
import { EVENTS_WILDCARD, eventsSubject } from "./subjects.js";

export interface SubscribeEventsOptions {
  /** Start with batches stored at or after this time. */
  since?: Date;
  /**
   * Keep waiting for new batches. Without `since`, follow starts with new
   * batches only; without follow, reading stops once the batches stored when
   * the subscription started have been read. Default false.
   */
  follow?: boolean;
  /** Only this node's batches. Default: every node. */
  node?: string;
  /** Default TCPTRAIL_EVENTS. */
  stream?: string;
  /** Default: silent. */
  logger?: Logger;
}

export interface ReceivedBatch {
  batch: DecodedBatch;
  /** Stream sequence of the message. */
  seq: number;
  /** Messages left for this subscription when this one was delivered. */
  pending: number;
}

export interface SubscriberStats {
  received: number;
  /** Messages that were not a valid EventBatch, skipped. */
  malformed: number;
}

export interface EventSubscription extends AsyncIterable<ReceivedBatch> {
  /** Matching messages already in the stream at start (0: nothing to replay). */
  readonly initialPending: number;
  stats(): SubscriberStats;
  /** Why iteration ended early, if it did (connection closed, stream deleted). */
  readonly error: Error | undefined;
  /** End the iteration and remove the server-side consumer. */
  close(): Promise<void>;
}

const PREFETCH = 256;

/** Open an ordered consumer on the events stream. Iterate the result once. */
export async function subscribeEvents(nc: NatsConnection, opts: SubscribeEventsOptions = {}): Promise<EventSubscription> {
  const stream = opts.stream ?? EVENTS_STREAM;
  const log = opts.logger ?? silentLogger;
  const follow = opts.follow ?? false;
  const copts: Partial<OrderedConsumerOptions> = {
    // A single filter subject: multi-subject filters need nats-server 2.10.
    filter_subjects: opts.node ? eventsSubject(opts.node) : EVENTS_WILDCARD,
  };
  if (opts.since) copts.opt_start_time = opts.since.toISOString();
  else copts.deliver_policy = follow ? DeliverPolicy.New : DeliverPolicy.All;

  // Where the history ends: without follow, stop there even if more keeps coming.
  const lastSeqAtStart = follow
    ? Infinity
    : (await (await jetstreamManager(nc)).streams.info(stream)).state.last_seq;
  const consumer = await jetstream(nc).consumers.get(stream, copts);
  const initialPending = (await consumer.info(true)).num_pending;
  return new Subscription(consumer, initialPending, follow, lastSeqAtStart, log);
}

class Subscription implements EventSubscription {
  readonly initialPending: number;
  error: Error | undefined;
  readonly #consumer: Consumer;
  readonly #follow: boolean;
  readonly #lastSeq: number;
  readonly #log: Logger;
  #messages: ConsumerMessages | undefined;
  #closed = false;
  #stats: SubscriberStats = { received: 0, malformed: 0 };

  constructor(consumer: Consumer, initialPending: number, follow: boolean, lastSeq: number, log: Logger) {
    this.#consumer = consumer;
    this.initialPending = initialPending;
    this.#follow = follow;
    this.#lastSeq = lastSeq;
    this.#log = log;
  }

  stats(): SubscriberStats {
    return { ...this.#stats };
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ReceivedBatch> {
    if (this.#closed || (!this.#follow && this.initialPending === 0)) return;
    const messages = await this.#consumer.consume({ max_messages: PREFETCH });
    this.#messages = messages;
    try {
      for await (const m of messages) {
        const pending = m.info.pending;
        const last = !this.#follow && (pending === 0 || m.seq >= this.#lastSeq);
        try {
          const batch = decodeBatch(m.data);
          this.#stats.received++;
          yield { batch, seq: m.seq, pending };
        } catch (e) {
          this.#stats.malformed++;
          this.#log.warn({ err: e, subject: m.subject, seq: m.seq }, "skipping malformed event message");
        }
        if (last) break;
      }
    } catch (e) {
      this.error = e instanceof Error ? e : new Error(String(e));
      this.#log.warn({ err: e }, "event subscription ended");
    } finally {
      await this.close();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // Not awaited: close() may be called from inside the for-await body, and the
    // iterator only reports closed once that body returns.
    void this.#messages?.close();
    // The ordered consumer would linger until its inactivity threshold otherwise.
    await this.#consumer.delete().catch(() => undefined);
  }
}
