// Two independent 32-bit hashes of a string in one pass, for the Bloom filter
// (double hashing needs two) and the 48-bit trace key. Not cryptographic: a
// collision only costs a block decoded in vain. FNV-1a over UTF-16 code units
// with two different multipliers, each finished by murmur3's fmix32 so that
// strings differing in one character differ in about half the bits.

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Reused result: hashing runs ~100k times per sealed block and must not allocate. */
export interface HashPair {
  h1: number;
  h2: number;
}

/** Both hashes of `s` into `out` (returned). */
export function hashPair(s: string, out: HashPair = { h1: 0, h2: 0 }): HashPair {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  out.h1 = fmix32(a);
  out.h2 = fmix32(b ^ s.length);
  return out;
}
