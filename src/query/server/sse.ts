// One Server-Sent Events connection on a raw Node response: headers,
// heartbeats, and back-pressure. A client that stops reading is disconnected
// once its unsent backlog passes a bound, instead of growing memory without one.
import type { ServerResponse } from "node:http";
import { positiveIntervalMs } from "../../model/mod.js";

export const DEFAULT_SSE_HEARTBEAT_MS = 15_000;
export const DEFAULT_SSE_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface SseOptions {
  /** Comment line sent this often so proxies keep the connection, whole ms >= 1. Default DEFAULT_SSE_HEARTBEAT_MS (15000). */
  heartbeatMs?: number;
  /** Unsent bytes tolerated before the client is dropped. Default DEFAULT_SSE_MAX_BUFFERED_BYTES (4 MiB). */
  maxBufferedBytes?: number;
}

/**
 * The options over their defaults, checked. The server calls this when it is
 * built, so a bad heartbeat fails at startup rather than at the first client
 * (a 0 ms heartbeat would write a ping every millisecond to every client).
 */
export function resolveSseOptions(opts: SseOptions = {}): Required<SseOptions> {
  return {
    heartbeatMs: positiveIntervalMs("sse.heartbeatMs", opts.heartbeatMs, DEFAULT_SSE_HEARTBEAT_MS),
    maxBufferedBytes: opts.maxBufferedBytes ?? DEFAULT_SSE_MAX_BUFFERED_BYTES,
  };
}

export class SseConnection {
  readonly #res: ServerResponse;
  readonly #maxBuffered: number;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #onClose: (() => void)[] = [];
  #id = 0;
  #closed = false;

  constructor(res: ServerResponse, options: SseOptions = {}) {
    const opts = resolveSseOptions(options);
    this.#res = res;
    this.#maxBuffered = opts.maxBufferedBytes;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // nginx and friends buffer responses unless told not to.
      "x-accel-buffering": "no",
    });
    res.write(": connected\n\n");
    this.#heartbeat = setInterval(() => this.#write(": ping\n\n"), opts.heartbeatMs);
    this.#heartbeat.unref();
    res.on("close", () => this.close());
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Run when the connection ends, whoever ends it. */
  onClose(fn: () => void): void {
    if (this.#closed) fn();
    else this.#onClose.push(fn);
  }

  send(event: string, data: unknown): void {
    this.#write(`id: ${++this.#id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const fn of this.#onClose.splice(0)) fn();
    if (!this.#res.writableEnded) this.#res.end();
  }

  #write(chunk: string): void {
    if (this.#closed) return;
    if (this.#res.writableLength > this.#maxBuffered) {
      this.#res.destroy();
      this.close();
      return;
    }
    this.#res.write(chunk);
  }
}
