// POSTs alerts as JSON to a webhook. Deliveries run one at a time from a
// bounded queue in the background: a slow or dead receiver costs memory up to
// `maxQueue` alerts and counted drops, never a stalled engine.
import { setTimeout as sleep } from "node:timers/promises";
import { InvalidArgumentError } from "../errors/mod.js";
import type { Alert } from "../model/mod.js";
import { silentLogger, type Logger } from "../log/logger.js";
import { WebhookError } from "./errors.js";
import { alertToJson } from "./format.js";
import type { AlertSink } from "./sink.js";

export interface WebhookSinkOptions {
  /** http(s) URL the alerts are POSTed to, one JSON object (see AlertJson) per request. */
  url: string;
  /** Extra request headers, e.g. an Authorization token. Default: none. */
  headers?: Record<string, string>;
  /** Per-attempt timeout. Default: 5,000 ms. */
  timeoutMs?: number;
  /** Attempts after the first one, for network errors, timeouts, 5xx and 429. Default: 3. */
  retries?: number;
  /** Wait before the first retry; doubles per retry, with jitter. Default: 500 ms. */
  backoffMs?: number;
  /** Longest wait between attempts (also caps a 429's Retry-After). Default: 30,000 ms. */
  maxBackoffMs?: number;
  /** Alerts waiting for delivery beyond this are dropped and counted. Default: 1,000. */
  maxQueue?: number;
  /** Default: a silent logger. */
  logger?: Logger;
}

export interface WebhookStats {
  /** Alerts the receiver accepted (2xx). */
  delivered: number;
  /** Alerts given up on: retries exhausted or a non-retryable answer (4xx). */
  failed: number;
  /** Alerts dropped because the queue was full or the sink closed. */
  dropped: number;
  /** Attempts beyond the first. */
  retries: number;
  /** Alerts waiting now. */
  queued: number;
}

const DEFAULTS = { timeoutMs: 5_000, retries: 3, backoffMs: 500, maxBackoffMs: 30_000, maxQueue: 1_000 };

/** The parsed URL when it is an http(s) URL; the user typed it (--webhook), so say which. */
function webhookUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch (e) {
    throw InvalidArgumentError.format("webhook URL", `must be an http or https URL (got ${JSON.stringify(text)})`, { cause: e });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw InvalidArgumentError.format("webhook URL", `must be http or https (got ${url.protocol})`);
  }
  return url;
}

export class WebhookSink implements AlertSink {
  readonly #url: string;
  readonly #opts: typeof DEFAULTS;
  readonly #headers: Record<string, string>;
  readonly #log: Logger;
  readonly #queue: Alert[] = [];
  // The running delivery loop, if any; drain() awaits it.
  #worker: Promise<void> | undefined;
  #closed = false;
  readonly #stats = { delivered: 0, failed: 0, dropped: 0, retries: 0 };

  constructor(opts: WebhookSinkOptions) {
    const url = webhookUrl(opts.url);
    this.#url = url.href;
    this.#opts = {
      timeoutMs: opts.timeoutMs ?? DEFAULTS.timeoutMs,
      retries: opts.retries ?? DEFAULTS.retries,
      backoffMs: opts.backoffMs ?? DEFAULTS.backoffMs,
      maxBackoffMs: opts.maxBackoffMs ?? DEFAULTS.maxBackoffMs,
      maxQueue: opts.maxQueue ?? DEFAULTS.maxQueue,
    };
    this.#headers = { ...opts.headers, "content-type": "application/json" };
    this.#log = opts.logger ?? silentLogger;
  }

  send(alert: Alert): void {
    if (this.#closed || this.#queue.length >= this.#opts.maxQueue) {
      this.#stats.dropped++;
      this.#log.warn({ alert_id: alert.alertId, closed: this.#closed }, "webhook queue full: alert dropped");
      return;
    }
    this.#queue.push(alert);
    this.#kick();
  }

  async drain(): Promise<void> {
    while (this.#worker) await this.#worker;
  }

  /** Refuses further alerts and waits for the queued ones. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.drain();
  }

  stats(): WebhookStats {
    return { ...this.#stats, queued: this.#queue.length };
  }

  #kick(): void {
    if (this.#worker) return;
    this.#worker = this.#run().finally(() => {
      this.#worker = undefined;
      // An alert sent after the loop saw an empty queue, but before this ran.
      if (this.#queue.length > 0) this.#kick();
    });
  }

  async #run(): Promise<void> {
    for (let alert = this.#queue.shift(); alert; alert = this.#queue.shift()) {
      try {
        await this.#deliver(alert);
        this.#stats.delivered++;
      } catch (e) {
        this.#stats.failed++;
        this.#log.warn({ err: e, alert_id: alert.alertId, url: this.#url }, "webhook delivery failed");
      }
    }
  }

  async #deliver(alert: Alert): Promise<void> {
    const body = JSON.stringify(alertToJson(alert));
    for (let attempt = 0; ; attempt++) {
      let err: WebhookError;
      let retryAfterMs: number | undefined;
      try {
        const res = await fetch(this.#url, {
          method: "POST",
          headers: this.#headers,
          body,
          signal: AbortSignal.timeout(this.#opts.timeoutMs),
        });
        // The body is irrelevant, but must be consumed to free the connection.
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        const retryable = res.status >= 500 || res.status === 429;
        err = new WebhookError(`webhook answered ${res.status} ${res.statusText}`, { status: res.status, retryable });
        retryAfterMs = retryAfter(res.headers.get("retry-after"));
      } catch (e) {
        const timedOut = (e as Error).name === "TimeoutError";
        const what = timedOut ? `no answer within ${this.#opts.timeoutMs} ms` : (e as Error).message;
        err = new WebhookError(`webhook unreachable: ${what}`, { retryable: true, cause: e });
      }
      if (!err.retryable || attempt >= this.#opts.retries) throw err;
      this.#stats.retries++;
      await sleep(this.#backoff(attempt, retryAfterMs));
    }
  }

  #backoff(attempt: number, retryAfterMs: number | undefined): number {
    const exp = Math.min(this.#opts.maxBackoffMs, this.#opts.backoffMs * 2 ** attempt);
    // Jitter keeps several tcptrail instances from retrying in lockstep.
    const jittered = exp / 2 + Math.random() * (exp / 2);
    return Math.min(this.#opts.maxBackoffMs, Math.max(jittered, retryAfterMs ?? 0));
  }
}

/** Retry-After in seconds (the HTTP-date form is rare for webhooks and ignored). */
function retryAfter(v: string | null): number | undefined {
  if (v === null || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v) * 1_000;
}
