// Publishes alerts as protobuf on `tcptrail.v1.alerts.<severity>` (the
// transport layer's alertsSubject()). The NATS side is injected as a plain
// function so the caller chooses core publish or JetStream publish-with-ack,
// and owns the connection.
import { silentLogger, type Logger } from "../log/logger.js";
import { severityName, type Alert } from "../model/mod.js";
import { alertsSubject } from "../transport/mod.js";
import { encodeAlert } from "./codec.js";
import type { AlertSink } from "./sink.js";

/** Publishes `data` on `subject`: `nc.publish` or `js.publish` bound to a connection. */
export type PublishFn = (subject: string, data: Uint8Array) => unknown;

export interface AlertPublisherOptions {
  publish: PublishFn;
  /** Subject for a severity name ("CRITICAL"). Default: `tcptrail.v1.alerts.<severity, lowercase>`. */
  subject?: (severityName: string) => string;
  /** Default: a silent logger. */
  logger?: Logger;
}

export interface AlertPublisherStats {
  published: number;
  failed: number;
}

export class AlertPublisher implements AlertSink {
  readonly #publish: PublishFn;
  readonly #subject: (severityName: string) => string;
  readonly #log: Logger;
  // Publishes still awaiting their ack, so drain() can wait for them.
  readonly #inflight = new Set<Promise<void>>();
  #published = 0;
  #failed = 0;

  constructor(opts: AlertPublisherOptions) {
    this.#publish = opts.publish;
    this.#subject = opts.subject ?? alertsSubject;
    this.#log = opts.logger ?? silentLogger;
  }

  /** The subject `alert` goes to. */
  subjectFor(alert: Alert): string {
    return this.#subject(severityName(alert.severity));
  }

  /** Publishes and waits for the publish function (and its ack, for JetStream); throws its error. */
  async publish(alert: Alert): Promise<void> {
    try {
      await this.#publish(this.subjectFor(alert), encodeAlert(alert));
      this.#published++;
    } catch (e) {
      this.#failed++;
      throw e;
    }
  }

  send(alert: Alert): void {
    const p = this.publish(alert).catch((e: unknown) => {
      this.#log.warn({ err: e, alert_id: alert.alertId, rule: alert.rule }, "alert publish failed");
    });
    this.#inflight.add(p);
    void p.finally(() => this.#inflight.delete(p));
  }

  async drain(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
  }

  stats(): AlertPublisherStats {
    return { published: this.#published, failed: this.#failed };
  }
}
