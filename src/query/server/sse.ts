// One Server-Sent Events connection on a raw Node response: headers,
// heartbeats, and back-pressure. A client that stops reading is disconnected
// once its unsent backlog passes a bound, instead of growing memory without one.
import type { ServerResponse } from "node:http";

export interface SseOptions {
  /** Comment line sent this often so proxies keep the connection, ms. Default 15000. */
  heartbeatMs?: number;
  /** Unsent bytes tolerated before the client is dropped. Default 4 MiB. */
  maxBufferedBytes?: number;
}

export class SseConnection {
  readonly #res: ServerResponse;
  readonly #maxBuffered: number;
  readonly #heartbeat: NodeJS.Timeout;
  readonly #onClose: (() => void)[] = [];
  #id = 0;
  #closed = false;

  constructor(res: ServerResponse, opts: SseOptions = {}) {
    this.#res = res;
    this.#maxBuffered = opts.maxBufferedBytes ?? 4 * 1024 * 1024;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // nginx and friends buffer responses unless told not to.
      "x-accel-buffering": "no",
    });
    res.write(": connected\n\n");
    this.#heartbeat = setInterval(() => this.#write(": ping\n\n"), opts.heartbeatMs ?? 15_000);
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
