// Decoding stored protobuf bodies into objects whose 64-bit fields are plain
// numbers: decode() alone yields Long objects when the `long` package is
// loaded (see uint64.ts), and callers compare and serialize these fields.
import { v1, type ConnEvent, type ConnEventInit, type Trace, type TraceInit } from "../model/mod.js";

const asNumbers = { longs: Number, enums: Number, defaults: true } as const;

export function decodeTrace(body: Uint8Array): Trace {
  return v1.Trace.create(v1.Trace.toObject(v1.Trace.decode(body), asNumbers) as TraceInit);
}

export function decodeEvent(body: Uint8Array): ConnEvent {
  return v1.ConnEvent.create(v1.ConnEvent.toObject(v1.ConnEvent.decode(body), asNumbers) as ConnEventInit);
}
