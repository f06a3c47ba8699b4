// The trace builder's view of the events stream: a durable pull consumer with
// explicit acks, so a restart resumes where processing (not delivery) stopped.
import { nanos } from "@nats-io/nats-core";
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { silentLogger, type Logger } from "../log/logger.js";
import { decodeBatch, type DecodedBatch } from "./batch-codec.js";
import { EVENTS_STREAM } from "./streams.js";
import { EVENTS_WILDCARD } from "./subjects.js";
import type { SubscriberStats } from "./event-subscriber.js";

export interface DurableEventConsumerOptions {
  /** Redeliver a batch not acked within this time. Default 30 000 ms. */
  ackWaitMs?: number;
  /** Delivered but unacked batches the server allows at once. Default 1000. */
  maxAckPending?: number;
  /** Batches pulled ahead of processing. Default 64 (capped at maxAckPending). */
  prefetch?: number;
  /** Default: every node (`tcptrail.v1.events.>`). */
  filterSubject?: string;
  /** Default TCPTRAIL_EVENTS. */
  stream?: string;
  /**
   * How long one pull request lives on the server, ms >= 1000; the client
   * expects the server's heartbeats every half of it and re-pulls after two
   * are missed. Default DEFAULT_PULL_EXPIRES_MS (5000).
   */
  pullExpiresMs?: number;
  /** Default: silent. */
  logger?: Logger;
}

export interface DeliveredBatch {
  batch: DecodedBatch;
  seq: number;
  /** True when the server delivered this batch before (a previous run did not ack it). */
  redelivered: boolean;
  /** Done with this batch; resolves once the server recorded the ack. */
  ack(): Promise<void>;
  /** Could not process it now: redeliver after delayMs (default: at once). */
  nak(delayMs?: number): void;
}

export interface DurableEventConsumer extends AsyncIterable<DeliveredBatch> {
  readonly name: string;
  stats(): SubscriberStats;
  /** Stop pulling. Unacked batches are redelivered (to the next run) after ackWaitMs. */
  close(): Promise<void>;
}

/**
 * nats.js's own default is 30 s, so its heartbeat check takes 30 s to notice
 * a pull that died with its server: on a cluster, after the consumer's leader
 * moves (a server killed), the pull sits at the old leader and nothing is
 * delivered for that long. 5 s notices it within ~5 s, at the price of one
 * small request every 5 s while idle.
 */
export const DEFAULT_PULL_EXPIRES_MS = 5000;

const isConsumerNotFound = (e: unknown): boolean =>
  e instanceof JetStreamApiError && e.code === JetStreamApiCodes.ConsumerNotFound;

/**
 * Create (or reopen, updating its limits) the durable consumer `name` on the
 * events stream. Malformed messages are logged, counted and terminated so the
 * server never redelivers them.
 */
export async function createDurableEventConsumer(
  js: JetStreamClient,
  jsm: JetStreamManager,
  name: string,
  opts: DurableEventConsumerOptions = {},
): Promise<DurableEventConsumer> {
  const stream = opts.stream ?? EVENTS_STREAM;
  const ackWait = nanos(opts.ackWaitMs ?? 30_000);
  const maxAckPending = opts.maxAckPending ?? 1000;
  try {
    await jsm.consumers.info(stream, name);
    await jsm.consumers.update(stream, name, { ack_wait: ackWait, max_ack_pending: maxAckPending });
  } catch (e) {
    if (!isConsumerNotFound(e)) throw e;
    await jsm.consumers.add(stream, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      ack_wait: ackWait,
      max_ack_pending: maxAckPending,
      deliver_policy: DeliverPolicy.All,
      filter_subject: opts.filterSubject ?? EVENTS_WILDCARD,
    });
  }
  const consumer = await js.consumers.get(stream, name);
  const prefetch = Math.max(1, Math.min(opts.prefetch ?? 64, maxAckPending));
  const log = opts.logger ?? silentLogger;
  const stats: SubscriberStats = { received: 0, malformed: 0 };
  let messages: ConsumerMessages | undefined;
  let closed = false;

  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    // Not awaited: close() may run inside the for-await body, and the iterator
    // only reports closed once that body returns.
    void messages?.close();
  };

  return {
    name,
    stats: () => ({ ...stats }),
    close,
    async *[Symbol.asyncIterator](): AsyncIterator<DeliveredBatch> {
      if (closed) return;
      messages = await consumer.consume({ max_messages: prefetch, expires: opts.pullExpiresMs ?? DEFAULT_PULL_EXPIRES_MS });
      try {
        for await (const m of messages) {
          let batch: DecodedBatch;
          try {
            batch = decodeBatch(m.data);
          } catch (e) {
            stats.malformed++;
            log.warn({ err: e, subject: m.subject, seq: m.seq }, "terminating malformed event message");
            // No reason string: nats-server 2.9 ignores "+TERM <reason>".
            m.term();
            continue;
          }
          stats.received++;
          yield {
            batch,
            seq: m.seq,
            redelivered: m.redelivered,
            ack: async () => {
              await m.ackAck();
            },
            nak: (delayMs?: number) => m.nak(delayMs),
          };
        }
      } finally {
        await close();
      }
    },
  };
}
