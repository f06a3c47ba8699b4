// A bounded queue in front of the OTLP exporter, so tracing never waits for
// a tracing backend: offer() is synchronous and never blocks; one export is
// in flight at a time (the bound means something only if the queue is the
// only place spans wait); when the backend is slow or down the queue fills
// and whole traces are dropped, counted, rather than memory growing without
// end. Retrying is the exporter's (the SDK retries 429/502/503/504 and
// network errors with back-off within its timeout); what still fails is
// counted and let go, since a trace is in tcptrail's own store regardless.
import type { ReadableSpan, SpanExporter } from "@opentelemetry/sdk-trace-base";

/** Spans waiting, at most (the SDK's BatchSpanProcessor default). */
export const DEFAULT_OTLP_MAX_QUEUE_SPANS = 2048;
/** Spans per export request, at most (the BatchSpanProcessor default). */
export const DEFAULT_OTLP_MAX_BATCH_SPANS = 512;
/** How long spans wait for company before they are sent, ms: close to live, few requests. */
export const DEFAULT_OTLP_FLUSH_MS = 500;
/**
 * Longest one export may take before it is given up as failed, ms. The
 * exporter keeps its own timeout (retries included) below this; this only
 * guards the queue against a callback that never comes.
 */
export const DEFAULT_OTLP_EXPORT_DEADLINE_MS = 30_000;

// ExportResultCode.SUCCESS of @opentelemetry/core (a dependency of the SDK, not of ours).
const EXPORT_SUCCESS = 0;

type ExportResult = Parameters<Parameters<SpanExporter["export"]>[1]>[0];

/** `p`, or nothing once `deadline` (ms since the epoch) passes. */
async function until(p: Promise<unknown> | undefined, deadline: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadline - Date.now()))))]);
  clearTimeout(timer);
}

export interface ExportQueueOptions {
  exporter: SpanExporter;
  maxQueueSpans?: number;
  maxBatchSpans?: number;
  flushMs?: number;
  exportDeadlineMs?: number;
  /** Told of every outcome, for metrics and logs. */
  onExported?: (spans: number) => void;
  onFailed?: (spans: number, error: Error | undefined) => void;
  onDropped?: (spans: number) => void;
}

export interface ExportQueueStats {
  exported: number;
  /** Export requests that failed (after the exporter's retries). */
  failures: number;
  failedSpans: number;
  dropped: number;
  queued: number;
  inFlight: number;
}

export class ExportQueue {
  readonly #exporter: SpanExporter;
  readonly #max: number;
  readonly #batch: number;
  readonly #flushMs: number;
  readonly #deadlineMs: number;
  readonly #o: ExportQueueOptions;
  #queue: ReadableSpan[] = [];
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #inFlightSpans = 0;
  #closed = false;
  readonly #stats = { exported: 0, failures: 0, failedSpans: 0, dropped: 0 };

  constructor(o: ExportQueueOptions) {
    this.#o = o;
    this.#exporter = o.exporter;
    this.#max = o.maxQueueSpans ?? DEFAULT_OTLP_MAX_QUEUE_SPANS;
    this.#batch = Math.min(o.maxBatchSpans ?? DEFAULT_OTLP_MAX_BATCH_SPANS, this.#max);
    this.#flushMs = o.flushMs ?? DEFAULT_OTLP_FLUSH_MS;
    this.#deadlineMs = o.exportDeadlineMs ?? DEFAULT_OTLP_EXPORT_DEADLINE_MS;
  }

  /**
   * Queue one trace's spans, all or none (half a trace in a backend reads as
   * a different trace). Synchronous; false when they were dropped.
   */
  offer(spans: readonly ReadableSpan[]): boolean {
    if (spans.length === 0) return true;
    if (this.#closed || this.#queue.length + spans.length > this.#max) {
      this.#stats.dropped += spans.length;
      this.#o.onDropped?.(spans.length);
      return false;
    }
    this.#queue.push(...spans);
    if (this.#queue.length >= this.#batch) this.#kick();
    else this.#timer ??= setTimeout(() => this.#kick(), this.#flushMs);
    return true;
  }

  stats(): ExportQueueStats {
    return { ...this.#stats, queued: this.#queue.length, inFlight: this.#inFlightSpans };
  }

  /**
   * Refuse new spans, send what is queued (for at most `timeoutMs`, then
   * count the rest as dropped), and shut the exporter down.
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const deadline = Date.now() + timeoutMs;
    while ((this.#queue.length > 0 || this.#inFlight) && Date.now() < deadline) {
      this.#kick();
      await until(this.#inFlight, deadline);
    }
    if (this.#queue.length > 0) {
      this.#stats.dropped += this.#queue.length;
      this.#o.onDropped?.(this.#queue.length);
      this.#queue = [];
    }
    // The exporter's shutdown waits for its exports in flight, retries and
    // all (up to its timeout): bounded by what is left of ours. An export
    // still running reports its failure when it ends.
    await until(
      this.#exporter.shutdown().catch(() => undefined),
      deadline,
    );
  }

  #kick(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#inFlight || this.#queue.length === 0) return;
    const batch = this.#queue.splice(0, this.#batch);
    this.#inFlightSpans = batch.length;
    this.#inFlight = this.#send(batch).finally(() => {
      this.#inFlight = undefined;
      this.#inFlightSpans = 0;
      if (this.#queue.length >= this.#batch || (this.#closed && this.#queue.length > 0)) this.#kick();
      else if (this.#queue.length > 0) this.#timer ??= setTimeout(() => this.#kick(), this.#flushMs);
    });
  }

  async #send(batch: ReadableSpan[]): Promise<void> {
    const result = await new Promise<ExportResult>((resolve) => {
      const guard = setTimeout(
        () => resolve({ code: 1, error: new Error(`the OTLP export did not finish within ${this.#deadlineMs} ms`) }),
        this.#deadlineMs,
      );
      try {
        this.#exporter.export(batch, (r) => {
          clearTimeout(guard);
          resolve(r);
        });
      } catch (err) {
        clearTimeout(guard);
        resolve({ code: 1, error: err instanceof Error ? err : new Error(String(err)) });
      }
    });
    if (result.code === EXPORT_SUCCESS) {
      this.#stats.exported += batch.length;
      this.#o.onExported?.(batch.length);
    } else {
      this.#stats.failures++;
      this.#stats.failedSpans += batch.length;
      this.#o.onFailed?.(batch.length, result.error);
    }
  }
}
