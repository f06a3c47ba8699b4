// A socket id "node/sock/birth" (src/model/socket-id.ts) stored as its parts:
// the node as a string index, the kernel address and the birth as deltas from
// the node's previous socket in the block. Both are 64-bit values a double
// cannot hold (addresses are ~0xffff8881…, births pass 2^53 ns after 104 days
// of uptime), so each is split into a high and a low part that stay exact,
// and a delta is used only when it is exact too. Ids that would not read back
// character for character (upper case, leading zeros, "0x", a missing part)
// are never split: the caller keeps them verbatim.

const TWO_32 = 0x1_0000_0000;
const E9 = 1_000_000_000;
// |hi delta| bounds that keep hi·base + lo delta below 2^53.
const MAX_SOCK_HI_DELTA = 2 ** 20;
const MAX_BIRTH_HI_DELTA = 9_000_000;
export interface SocketParts {
  node: string;
  sockHi: number;
  sockLo: number;
  birthHi: number;
  birthLo: number;
}

/** Value of the hex digit at `c` (lower case only: upper case would not read back), or -1. */
function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * The parts of `id`, or null when they would not give back exactly `id`:
 * the address is lower-case hex of at most 16 digits and the birth decimal
 * of at most 20, neither with a leading zero. Runs for every socket of every
 * sealed trace, so it reads char codes instead of slicing and matching.
 */
export function splitSocketId(id: string): SocketParts | null {
  const b = id.lastIndexOf("/");
  const a = b > 0 ? id.lastIndexOf("/", b - 1) : -1;
  if (a <= 0) return null;
  const sockLen = b - a - 1;
  const birthLen = id.length - b - 1;
  if (sockLen < 1 || sockLen > 16 || birthLen < 1 || birthLen > 20) return null;
  if ((sockLen > 1 && id.charCodeAt(a + 1) === 48) || (birthLen > 1 && id.charCodeAt(b + 1) === 48)) return null;
  // The last 8 hex digits are lo, any before them hi; likewise 9 decimal digits for the birth.
  let sockHi = 0;
  let sockLo = 0;
  const sockSplit = b - 8;
  for (let i = a + 1; i < b; i++) {
    const d = hexDigit(id.charCodeAt(i));
    if (d < 0) return null;
    if (i < sockSplit) sockHi = sockHi * 16 + d;
    else sockLo = sockLo * 16 + d;
  }
  let birthHi = 0;
  let birthLo = 0;
  const birthSplit = id.length - 9;
  for (let i = b + 1; i < id.length; i++) {
    const d = id.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return null;
    if (i < birthSplit) birthHi = birthHi * 10 + d;
    else birthLo = birthLo * 10 + d;
  }
  return { node: id.slice(0, a), sockHi, sockLo, birthHi, birthLo };
}

export function joinSocketId(p: SocketParts): string {
  const sock = p.sockHi ? p.sockHi.toString(16) + p.sockLo.toString(16).padStart(8, "0") : p.sockLo.toString(16);
  const birth = p.birthHi ? String(p.birthHi) + String(p.birthLo).padStart(9, "0") : String(p.birthLo);
  return `${p.node}/${sock}/${birth}`;
}

/** The exact delta hi·base + lo − (phi·base + plo), or null when a double cannot hold it exactly. */
function delta(hi: number, lo: number, phi: number, plo: number, base: number, maxHi: number): number | null {
  const dh = hi - phi;
  if (dh >= maxHi || dh <= -maxHi) return null;
  return dh * base + (lo - plo);
}

/** hi and lo of (phi·base + plo) + d, with 0 <= lo < base. */
function advance(phi: number, plo: number, d: number, base: number): [number, number] {
  let q = Math.floor(d / base);
  let r = d - q * base;
  // The division rounds: put r back into [0, base).
  if (r < 0) {
    q--;
    r += base;
  } else if (r >= base) {
    q++;
    r -= base;
  }
  let lo = plo + r;
  let hi = phi + q;
  if (lo >= base) {
    lo -= base;
    hi++;
  }
  return [hi, lo];
}

export interface SocketDelta {
  sock: number;
  birth: number;
}

/**
 * The previous socket of each node, for deltas: the writer and the reader walk
 * a block's sockets in the same order and keep this in step, so the reader
 * recovers each socket from its delta.
 */
export class SocketCursor {
  readonly #prev = new Map<string, SocketParts>();
  readonly #base: SocketParts;

  /** `base`: where every node's first delta starts (the block's first socket). */
  constructor(base: Omit<SocketParts, "node">) {
    this.#base = { node: "", ...base };
  }

  /** Deltas of `p` from its node's previous socket, or null when they would not be exact. Moves the cursor either way. */
  deltaOf(p: SocketParts): SocketDelta | null {
    const prev = this.#prev.get(p.node) ?? this.#base;
    this.#prev.set(p.node, p);
    const sock = delta(p.sockHi, p.sockLo, prev.sockHi, prev.sockLo, TWO_32, MAX_SOCK_HI_DELTA);
    const birth = delta(p.birthHi, p.birthLo, prev.birthHi, prev.birthLo, E9, MAX_BIRTH_HI_DELTA);
    return sock === null || birth === null ? null : { sock, birth };
  }

  /** The socket of `node` at these deltas from its previous one; moves the cursor. */
  partsAt(node: string, d: SocketDelta): SocketParts {
    const p = this.peek(node, d);
    this.#prev.set(node, p);
    return p;
  }

  /** What partsAt would return, without moving the cursor. */
  peek(node: string, d: SocketDelta): SocketParts {
    const prev = this.#prev.get(node) ?? this.#base;
    const [sockHi, sockLo] = advance(prev.sockHi, prev.sockLo, d.sock, TWO_32);
    const [birthHi, birthLo] = advance(prev.birthHi, prev.birthLo, d.birth, E9);
    return { node, sockHi, sockLo, birthHi, birthLo };
  }

  /** A socket kept verbatim that still parses: the next delta of its node starts from it, on both sides. */
  moveTo(p: SocketParts): void {
    this.#prev.set(p.node, p);
  }
}
