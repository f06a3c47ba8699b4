// Decoding stored protobuf bodies. 64-bit fields come back as plain numbers
// because src/model configures the protobufjs runtime before the generated code loads.
import { v1, type ConnEvent, type Trace } from "../model/mod.js";

export function decodeTrace(body: Uint8Array): Trace {
  return v1.Trace.decode(body);
}

export function decodeEvent(body: Uint8Array): ConnEvent {
  return v1.ConnEvent.decode(body);
}
