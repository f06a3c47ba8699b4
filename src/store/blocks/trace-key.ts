// The trace_keys index maps a 48-bit hash of a trace id to the blocks that may
// hold it. 48 bits keep a key within a JS safe integer and a 6-byte SQLite
// integer; among 100M stored traces a given id collides with another's key
// with probability 100e6 / 2^48 ≈ 4e-7, and a collision only costs decoding a
// block that turns out not to hold the id.
import { hashPair, type HashPair } from "./string-hash.js";

const scratch: HashPair = { h1: 0, h2: 0 };

/** 48-bit key of a trace id, a non-negative safe integer. */
export function traceKey(traceId: string): number {
  const { h1, h2 } = hashPair(traceId, scratch);
  return h1 * 0x10000 + (h2 >>> 16);
}
