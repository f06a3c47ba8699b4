// A protobuf wire writer over one growable byte buffer, reused for every
// batch: varints, strings and length-delimited sub-messages written in place,
// with no object per field (protobufjs's Writer builds a LongBits per 64-bit
// value, and its generated encoders test hasOwnProperty per field). The
// values are written exactly as protobufjs writes them (tested byte for byte
// against the generated encoders), so the bytes do not depend on which wrote them.
import protobuf from "protobufjs/minimal.js";

/** Starting size of the buffer: a batch of 1000 events is ~120 KiB; it grows by doubling. */
export const DEFAULT_WIRE_WRITER_BYTES = 256 * 1024;

const TWO_32 = 4294967296;
const utf8 = protobuf.util.utf8;

// split64's result: module scratch rather than a returned pair, so the hot
// path allocates nothing per 64-bit field.
let LO = 0;
let HI = 0;

/** The low and high 32 bits of value's 64-bit two's complement (exact within ±2^53), into LO and HI. */
function split64(value: number): void {
  const neg = value < 0;
  const abs = neg ? -value : value;
  let lo = abs >>> 0;
  let hi = ((abs - lo) / TWO_32) >>> 0;
  if (neg) {
    hi = ~hi >>> 0;
    lo = ~lo >>> 0;
    if (++lo > 0xffffffff) {
      lo = 0;
      if (++hi > 0xffffffff) hi = 0;
    }
  }
  LO = lo;
  HI = hi;
}

export class WireWriter {
  #buf: Uint8Array;
  #pos = 0;

  constructor(initialBytes = DEFAULT_WIRE_WRITER_BYTES) {
    this.#buf = new Uint8Array(initialBytes);
  }

  /** Bytes written since the last reset. */
  get length(): number {
    return this.#pos;
  }

  reset(): void {
    this.#pos = 0;
  }

  /** The bytes written, in an ArrayBuffer of their own (transferable to another thread as is). */
  finish(): Uint8Array {
    return this.#buf.slice(0, this.#pos);
  }

  /** A field's key: its number and wire type (0 varint, 2 length-delimited). */
  tag(field: number, wireType: number): void {
    const key = (field << 3) | wireType;
    if (key < 128 && this.#pos < this.#buf.length) this.#buf[this.#pos++] = key;
    else this.uint32(key);
  }

  uint32(value: number): void {
    this.#reserve(5);
    let v = value >>> 0;
    const buf = this.#buf;
    let pos = this.#pos;
    while (v > 127) {
      buf[pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[pos++] = v;
    this.#pos = pos;
  }

  /** int32 (and enums): a negative value takes 10 bytes, sign-extended, as the spec says. */
  int32(value: number): void {
    const v = value | 0;
    if (v < 0) this.#varint64(v >>> 0, 0xffffffff);
    else this.uint32(v);
  }

  sint32(value: number): void {
    this.uint32(((value << 1) ^ (value >> 31)) >>> 0);
  }

  /** uint64 from a number (exact up to 2^53; a negative one as its two's complement, as protobufjs does). */
  uint64(value: number): void {
    split64(value);
    this.#varint64(LO, HI);
  }

  /** sint64 (zigzag) from a number, exact within ±2^53. */
  sint64(value: number): void {
    split64(value);
    const lo = LO;
    const hi = HI;
    const mask = hi >> 31;
    this.#varint64(((lo << 1) ^ mask) >>> 0, (((hi << 1) | (lo >>> 31)) ^ mask) >>> 0);
  }

  /** A string field's value: its UTF-8 length, then the bytes. */
  string(value: string): void {
    const n = value.length;
    this.#reserve(n * 3 + 5);
    const buf = this.#buf;
    if (n < 128) {
      // One pass for ASCII (nearly every comm, pod, address): the length is n,
      // one byte; the first other character sends it to the general path.
      const start = this.#pos;
      let pos = start + 1;
      for (let i = 0; i < n; i++) {
        const c = value.charCodeAt(i);
        if (c >= 128) return this.#utf8(value);
        buf[pos++] = c;
      }
      buf[start] = n;
      this.#pos = pos;
      return;
    }
    this.#utf8(value);
  }

  #utf8(value: string): void {
    this.uint32(utf8.length(value));
    this.#pos += utf8.write(value, this.#buf, this.#pos);
  }

  /**
   * Start a length-delimited value (a sub-message): returns where it starts,
   * for ldelim. One byte is kept for the length; a longer one moves the
   * value up, as protobufjs does.
   */
  fork(): number {
    this.#reserve(1);
    return this.#pos++;
  }

  ldelim(start: number): void {
    const len = this.#pos - start - 1;
    if (len < 128) {
      this.#buf[start] = len;
      return;
    }
    const n = len < 16384 ? 2 : len < 2097152 ? 3 : len < 268435456 ? 4 : 5;
    this.#reserve(n - 1);
    const buf = this.#buf;
    buf.copyWithin(start + n, start + 1, start + 1 + len);
    let v = len;
    let pos = start;
    while (v > 127) {
      buf[pos++] = (v & 127) | 128;
      v >>>= 7;
    }
    buf[pos] = v;
    this.#pos = start + n + len;
  }

  #varint64(lo: number, hi: number): void {
    this.#reserve(10);
    const buf = this.#buf;
    let pos = this.#pos;
    while (hi) {
      buf[pos++] = (lo & 127) | 128;
      lo = ((lo >>> 7) | (hi << 25)) >>> 0;
      hi >>>= 7;
    }
    while (lo > 127) {
      buf[pos++] = (lo & 127) | 128;
      lo >>>= 7;
    }
    buf[pos++] = lo;
    this.#pos = pos;
  }

  #reserve(n: number): void {
    const need = this.#pos + n;
    if (need <= this.#buf.length) return;
    const grown = new Uint8Array(Math.max(need, this.#buf.length * 2));
    grown.set(this.#buf.subarray(0, this.#pos));
    this.#buf = grown;
  }
}
