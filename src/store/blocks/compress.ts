// The compressor of sealed blocks: brotli (Node 20's zlib has no zstd).
//
// Measured 2026-12-02 on this 2-core machine (heavily loaded by other work,
// so the times are upper bounds; min of several runs), one block of 4096
// traces the real Stitcher built from bench/traffic-template.ts's mesh
// generator, TraceBlock encoding 232 B/trace before compression:
//
//   compressor            B/trace   ms per block
//   deflate level 9         41.7        150
//   brotli q4               16.6         13
//   brotli q5               14.0         18
//   brotli q6/q7            14.0      24-45
//   brotli q9               13.4         72
//   brotli q11              10.5       2700
//
// (brotli q5 of the plain v1.Trace protobufs of the same traces: 87 B/trace.)
// Quality 5 is where size stops paying for time. The generator is regular
// (sequential socket addresses and ports, fixed timings); with random slab
// addresses, ephemeral ports and jittered times the same block is 103 B/trace
// at q5 and 87 at q11 (plain protobuf + q5: 143), for churn 41 B/trace (plain:
// 69): the entropy of real socket addresses and ports is what remains.
// The window (2^22 B) covers a whole block's encoding.
import { brotliCompressSync, brotliDecompressSync, constants } from "node:zlib";

/** Brotli quality of sealed blocks (see the measurements above). */
export const DEFAULT_BLOCK_QUALITY = 5;
const WINDOW_BITS = 22;

export function compressBlock(raw: Uint8Array, quality = DEFAULT_BLOCK_QUALITY): Buffer {
  return brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: quality,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      [constants.BROTLI_PARAM_LGWIN]: WINDOW_BITS,
    },
  });
}

export function decompressBlock(body: Uint8Array): Buffer {
  return brotliDecompressSync(body);
}
