// Sealed trace blocks: thousands of traces in one compressed TraceBlock
// (proto/tcptrail/v1/store.proto) with a summary that lets queries skip it,
// and the 48-bit keys that find a trace's block by id. Storage-agnostic: the
// SQLite store (../sqlite/) decides when to seal and where blocks live.
export { DEFAULT_BLOOM_BITS_PER_KEY, bloomKey, bloomMayHave, buildBloom } from "./bloom.js";
export { TraceKeyValues, summarize, type BlockSummary } from "./block-summary.js";
export { DEFAULT_BLOCK_QUALITY, compressBlock, decompressBlock } from "./compress.js";
export { decodeBlock, findInBlock } from "./decode-block.js";
export { encodeBlock, sameEndpoint } from "./encode-block.js";
export { impliedTraceId, rootSocketId } from "./implied-trace-id.js";
export { compareByStart, findInSealed, openBlock, sealBlock, type SealedBlock } from "./sealed-block.js";
export { traceKey } from "./trace-key.js";
export { OPEN_END_US, maskBit, traceEndForOverlap, traceLastUs } from "./trace-times.js";
