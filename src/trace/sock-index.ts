// (node, sock address) → slot. Kernel addresses are 64-bit hex, so they are
// parsed into two uint32 columns and found through an open-addressing table
// of slot numbers: no string and no Map entry per socket (about 60 bytes
// saved each). Anything that is not lowercase hex of at most 16 digits (a
// hostile or test stream) goes through a plain Map instead.
import { NONE, type SocketTable } from "./socket-table.js";

const EMPTY = -1;

export class SockIndex {
  readonly #t: SocketTable;
  #buckets = new Int32Array(1024).fill(EMPTY);
  #mask = 1023;
  #count = 0;
  readonly #fallback = new Map<string, number>();
  readonly #names = new Map<number, string>();
  // Result of the last parse().
  #hi = 0;
  #lo = 0;

  constructor(table: SocketTable) {
    this.#t = table;
  }

  get(node: number, sock: string): number {
    if (!this.#parse(sock)) return this.#fallback.get(`${node}/${sock}`) ?? NONE;
    const t = this.#t;
    const hi = this.#hi;
    const lo = this.#lo;
    const len = sock.length;
    for (let i = this.#home(node, hi, lo); ; i = (i + 1) & this.#mask) {
      const s = this.#buckets[i]!;
      if (s === EMPTY) return NONE;
      if (t.sockLo[s] === lo && t.sockHi[s] === hi && t.node[s] === node && t.sockLen[s] === len) return s;
    }
  }

  /** Map (node, sock) to `slot` (replacing any previous incarnation) and record the address in the slot. */
  set(node: number, sock: string, slot: number): void {
    const t = this.#t;
    const old = this.get(node, sock);
    if (old !== NONE) this.delete(old);
    if (!this.#parse(sock)) {
      t.sockLen[slot] = 0;
      this.#fallback.set(`${node}/${sock}`, slot);
      this.#names.set(slot, sock);
      return;
    }
    t.sockHi[slot] = this.#hi;
    t.sockLo[slot] = this.#lo;
    t.sockLen[slot] = sock.length;
    if ((this.#count + 1) * 2 > this.#buckets.length) this.#rehash(this.#buckets.length * 2);
    this.#insert(slot);
    this.#count++;
  }

  /** Unmap `slot` if it is the one its address maps to. */
  delete(slot: number): void {
    const t = this.#t;
    if (t.sockLen[slot] === 0) {
      const name = this.#names.get(slot);
      if (name === undefined) return;
      const key = `${t.node[slot]}/${name}`;
      if (this.#fallback.get(key) === slot) this.#fallback.delete(key);
      return;
    }
    const b = this.#buckets;
    const mask = this.#mask;
    let i = this.#home(t.node[slot]!, t.sockHi[slot]!, t.sockLo[slot]!);
    while (b[i] !== slot) {
      if (b[i] === EMPTY) return;
      i = (i + 1) & mask;
    }
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    b[i] = EMPTY;
    this.#count--;
    for (let j = (i + 1) & mask; b[j] !== EMPTY; j = (j + 1) & mask) {
      const s = b[j]!;
      const k = this.#home(t.node[s]!, t.sockHi[s]!, t.sockLo[s]!);
      const movable = i <= j ? k <= i || k > j : k <= i && k > j;
      if (movable) {
        b[i] = s;
        b[j] = EMPTY;
        i = j;
      }
    }
  }

  /** The address text of `slot` (as the kernel printed it). */
  name(slot: number): string {
    const t = this.#t;
    const len = t.sockLen[slot]!;
    if (len === 0) return this.#names.get(slot) ?? "";
    const hex = t.sockHi[slot]!.toString(16).padStart(8, "0") + t.sockLo[slot]!.toString(16).padStart(8, "0");
    return hex.slice(16 - len);
  }

  /** Forget a freed slot's fallback name. */
  forget(slot: number): void {
    if (this.#t.sockLen[slot] === 0) this.#names.delete(slot);
  }

  /** Parse lowercase hex of 1..16 digits into #hi/#lo. */
  #parse(sock: string): boolean {
    const len = sock.length;
    if (len === 0 || len > 16) return false;
    let hi = 0;
    let lo = 0;
    for (let i = 0; i < len; i++) {
      const c = sock.charCodeAt(i);
      let d: number;
      if (c >= 48 && c <= 57) d = c - 48;
      else if (c >= 97 && c <= 102) d = c - 87;
      else return false;
      hi = ((hi << 4) | (lo >>> 28)) >>> 0;
      lo = ((lo << 4) | d) >>> 0;
    }
    this.#hi = hi;
    this.#lo = lo;
    return true;
  }

  #home(node: number, hi: number, lo: number): number {
    // struct sock addresses are aligned: mix all bits before masking.
    let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1) ^ Math.imul(node + 1, 0x85ebca6b), 0xc2b2ae35);
    h ^= h >>> 15;
    h = Math.imul(h, 0x27d4eb2f);
    h ^= h >>> 13;
    return h & this.#mask;
  }

  #insert(slot: number): void {
    const t = this.#t;
    let i = this.#home(t.node[slot]!, t.sockHi[slot]!, t.sockLo[slot]!);
    while (this.#buckets[i] !== EMPTY) i = (i + 1) & this.#mask;
    this.#buckets[i] = slot;
  }

  #rehash(size: number): void {
    const old = this.#buckets;
    this.#buckets = new Int32Array(size).fill(EMPTY);
    this.#mask = size - 1;
    for (let i = 0; i < old.length; i++) if (old[i] !== EMPTY) this.#insert(old[i]!);
  }
}
