// A Bloom filter per sealed block over what listTraces and the socket lookups
// filter on, so a query skips most blocks without decompressing them. With
// DEFAULT_BLOOM_BITS_PER_KEY = 10 bits (1.25 B) per distinct key and
// k = round(10 · ln 2) = 7 hashes, a key that is not in the block tests
// positive with probability (1 − e^(−7/10))^7 ≈ 0.8 %: about one block in 120
// is decoded in vain; a key that is in the block always tests positive.
//
// Layout: byte 0 holds k, the rest are the m = 8 · (length − 1) bits. Bit
// positions are h1 + i · h2 mod m (Kirsch–Mitzenmacher double hashing).
import { hashPair, type HashPair } from "./string-hash.js";

/** Bits per distinct key: ~0.8 % false positives (see above). */
export const DEFAULT_BLOOM_BITS_PER_KEY = 10;
/** The smallest bit array, so an almost empty block still has a usable filter. */
const MIN_BYTES = 8;

const scratch: HashPair = { h1: 0, h2: 0 };

/** A filter holding exactly `keys` (already distinct). */
export function buildBloom(keys: ReadonlySet<string>, bitsPerKey = DEFAULT_BLOOM_BITS_PER_KEY): Uint8Array {
  const bytes = Math.max(MIN_BYTES, Math.ceil((keys.size * bitsPerKey) / 8));
  const k = Math.max(1, Math.min(16, Math.round(bitsPerKey * Math.LN2)));
  const filter = new Uint8Array(1 + bytes);
  filter[0] = k;
  const m = bytes * 8;
  for (const key of keys) {
    const { h1, h2 } = hashPair(key, scratch);
    for (let i = 0; i < k; i++) {
      const bit = (h1 + i * h2) % m;
      filter[1 + (bit >>> 3)]! |= 1 << (bit & 7);
    }
  }
  return filter;
}

/** False: `key` is certainly not in the filter. True: it probably is. A damaged filter says true (never hides data). */
export function bloomMayHave(filter: Uint8Array, key: string): boolean {
  const k = filter[0] ?? 0;
  const m = (filter.length - 1) * 8;
  if (k === 0 || m === 0) return true;
  const { h1, h2 } = hashPair(key, scratch);
  for (let i = 0; i < k; i++) {
    const bit = (h1 + i * h2) % m;
    if ((filter[1 + (bit >>> 3)]! & (1 << (bit & 7))) === 0) return false;
  }
  return true;
}

/** The Bloom keys of what listTraces and the socket lookups ask for. */
export const bloomKey = {
  pod: (pod: string): string => `pod:${pod}`,
  ip: (ip: string): string => `ip:${ip}`,
  port: (port: number): string => `port:${port}`,
  addr: (ip: string, port: number): string => `addr:${ip}:${port}`,
  sock: (socketId: string): string => `sock:${socketId}`,
  // NUL cannot be in a Kubernetes label key, so "a=b" + "c" and "a" + "b=c" stay apart.
  label: (key: string, value: string): string => `label:${key}\0${value}`,
};
