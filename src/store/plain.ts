// Decoding stored protobuf bodies. 64-bit fields come back as plain numbers
// because src/model configures the protobufjs runtime before the generated code loads.
import { v1, withKernelTimes, type ConnEvent, type KernelNs, type Trace } from "../model/mod.js";

export function decodeTrace(body: Uint8Array): Trace {
  return v1.Trace.decode(body);
}

/**
 * A stored event body with its exact kernel times. A body carries them as
 * offsets from its row's ts_ns column (the store writes it so), so that
 * column, read exactly, is the base. Bodies written before offsets existed
 * carried an absolute ts_ns in a field now reserved: they decode with offset
 * 0, i.e. the column's time, which is right.
 */
export function decodeEvent(body: Uint8Array, tsNs: KernelNs): ConnEvent {
  const msg = v1.ConnEvent.decode(body);
  const ev = withKernelTimes(msg, tsNs);
  if (typeof ev !== "string") return ev;
  // Only a damaged row gets here: keep the column's exact time, forget the gap start.
  msg.gapStartOffsetNs = null;
  msg.tsOffsetNs = 0;
  return withKernelTimes(msg, tsNs) as ConnEvent;
}
