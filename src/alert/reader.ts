// Reading alerts back from NATS: following the live subjects, or replaying
// the recent ones kept in the TCPTRAIL_ALERTS stream. Anything that is not an
// alert is counted and skipped, never fatal: subjects are open to any publisher.
import { DeliverPolicy, JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { Alert, Severity } from "../model/mod.js";
import { decodeAlert } from "./codec.js";
import { AlertSourceError, isAlertDecodeError, type AlertDecodeError } from "./errors.js";
import { ALERTS_STREAM, ALERTS_WILDCARD, jetstream, type NatsConnection } from "../transport/mod.js";

export interface AlertReadOptions {
  /** Called for each alert at or above `minSeverity`, in arrival (stream) order. */
  onAlert: (alert: Alert, subject: string) => void;
  /** Called for each message that is not an alert. Default: nothing (it is still counted). */
  onMalformed?: (err: AlertDecodeError, subject: string) => void;
  /** Lowest severity passed to `onAlert`. Default: every severity. */
  minSeverity?: Severity;
}

export interface AlertReadStats {
  /** Alerts passed to onAlert. */
  alerts: number;
  /** Alerts below minSeverity. */
  filtered: number;
  /** Messages that were not alerts. */
  malformed: number;
}

export interface AlertFollower {
  stats(): AlertReadStats;
  /** Stops following; resolves once the subscription is closed. */
  stop(): Promise<void>;
  /** Resolves when the subscription ends (stop(), or the connection closed). */
  readonly closed: Promise<void>;
}

/** Follows `tcptrail.v1.alerts.>` live (core NATS: nothing is replayed). */
export function followAlerts(nc: NatsConnection, opts: AlertReadOptions): AlertFollower {
  const handle = handler(opts);
  const sub = nc.subscribe(ALERTS_WILDCARD, {
    callback: (err, msg) => {
      if (!err) handle(msg.data, msg.subject);
    },
  });
  const closed = sub.closed.then(() => undefined);
  return {
    stats: () => ({ ...handle.stats }),
    stop: async () => {
      if (!sub.isClosed()) await sub.drain();
      await closed;
    },
    closed,
  };
}

export interface RecentAlertsOptions extends AlertReadOptions {
  /** Replay alerts stored at or after this time. Default: one hour ago. */
  since?: Date;
  /** Stream to read. Default: TCPTRAIL_ALERTS. */
  stream?: string;
}

/**
 * Replays the alerts stored since `since` with an ordered (ephemeral,
 * server-side cleaned up) consumer and resolves once it has seen every alert
 * that was stored when it started.
 */
export async function readRecentAlerts(nc: NatsConnection, opts: RecentAlertsOptions): Promise<AlertReadStats> {
  const stream = opts.stream ?? ALERTS_STREAM;
  const since = opts.since ?? new Date(Date.now() - 3_600_000);
  const handle = handler(opts);
  const js = jetstream(nc);
  let consumer;
  let remaining: number;
  try {
    consumer = await js.consumers.get(stream, {
      filter_subjects: ALERTS_WILDCARD,
      deliver_policy: DeliverPolicy.StartTime,
      opt_start_time: since.toISOString(),
    });
    // What is stored now is what gets replayed; alerts published meanwhile are
    // for --follow. Nothing pending means done: consume() would wait forever.
    remaining = (await consumer.info()).num_pending;
    if (remaining === 0) return { ...handle.stats };
  } catch (e) {
    if (e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound) {
      throw new AlertSourceError(`no alerts stream ${stream}: has tcptrail run created its streams?`, { cause: e });
    }
    throw e;
  }
  const messages = await consumer.consume();
  try {
    for await (const m of messages) {
      handle(m.data, m.subject);
      if (--remaining <= 0 || m.info.pending === 0) break;
    }
  } finally {
    await messages.close();
  }
  return { ...handle.stats };
}

type Handler = ((data: Uint8Array, subject: string) => void) & { stats: AlertReadStats };

function handler(opts: AlertReadOptions): Handler {
  const stats: AlertReadStats = { alerts: 0, filtered: 0, malformed: 0 };
  const min = opts.minSeverity ?? 0;
  const handle = (data: Uint8Array, subject: string): void => {
    let alert: Alert;
    try {
      alert = decodeAlert(data);
    } catch (e) {
      if (!isAlertDecodeError(e)) throw e;
      stats.malformed++;
      opts.onMalformed?.(e, subject);
      return;
    }
    if (alert.severity < min) {
      stats.filtered++;
      return;
    }
    stats.alerts++;
    opts.onAlert(alert, subject);
  };
  return Object.assign(handle, { stats });
}
