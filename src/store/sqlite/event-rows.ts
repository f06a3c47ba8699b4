// The shape in which timeline queries read stored events: the columns they
// join and filter on, the body, and the exact kernel time (TS_NS).
import type { StoredEvent } from "../store.js";
import { decodeEvent } from "../plain.js";
import { TS_NS } from "./time-columns.js";

export interface EventRow {
  node: string;
  stream_id: number;
  seq: number;
  time_us: number;
  /** Decimal text (TS_NS): exact. */
  ts_ns: string;
  local_ip: string;
  local_port: number;
  remote_ip: string;
  remote_port: number;
  body: Buffer;
}

/** SELECT list for EventRow, from `events e JOIN streams s`. */
export const EVENT_COLUMNS = `s.node, e.stream_id, e.seq, e.time_us, ${TS_NS}, e.local_ip, e.local_port, e.remote_ip, e.remote_port, e.body`;

export function toStoredEvent(r: EventRow): StoredEvent {
  return { node: r.node, event: decodeEvent(r.body, BigInt(r.ts_ns)) };
}
