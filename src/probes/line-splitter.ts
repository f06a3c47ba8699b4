// Cuts bpftrace's raw stdout into lines. Chunks arrive as the pipe gives them
// (whole Buffers, possibly moved to another thread unsplit): each is decoded
// once, and its lines are handed on as ranges of that one string, so a line
// costs no substring of its own. Only a line cut by a chunk boundary is
// joined into a new string.
import { StringDecoder } from "node:string_decoder";

/** Receives one line: text[start, end), without its newline. */
export type LineRangeHandler = (text: string, start: number, end: number) => void;

export class LineSplitter {
  readonly #onLine: LineRangeHandler;
  // A multi-byte character (a comm is any UTF-8) may be cut by a chunk boundary too.
  #decoder = new StringDecoder("utf8");
  #rest = "";

  constructor(onLine: LineRangeHandler) {
    this.#onLine = onLine;
  }

  /** Bytes of the stream, in order. */
  push(chunk: Uint8Array): void {
    const text = this.#decoder.write(chunk as Buffer);
    let nl = text.indexOf("\n");
    if (nl === -1) {
      this.#rest += text;
      return;
    }
    let start = 0;
    if (this.#rest.length > 0) {
      const line = this.#rest + text.slice(0, nl);
      this.#rest = "";
      this.#onLine(line, 0, line.length);
      start = nl + 1;
      nl = text.indexOf("\n", start);
    }
    while (nl !== -1) {
      this.#onLine(text, start, nl);
      start = nl + 1;
      nl = text.indexOf("\n", start);
    }
    this.#rest = start < text.length ? text.slice(start) : "";
  }

  /** The stream ended (bpftrace exited): a last line without a newline is still a line. */
  end(): void {
    const tail = this.#rest + this.#decoder.end();
    this.#rest = "";
    this.#decoder = new StringDecoder("utf8");
    if (tail.length > 0) this.#onLine(tail, 0, tail.length);
  }
}
