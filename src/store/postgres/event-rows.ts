// An events row back as the EventRow the timeline and replay work with.
import { decodeBatch } from "../../transport/batch-codec.js";
import type { ConnEvent } from "../../model/mod.js";
import type { EventRow } from "../sqlite/event-rows.js";

/** What queries select from events: `EVENT_COLUMNS` names them in SQL. */
export interface EventRecord {
  stream_id: number;
  node: string;
  body: Buffer;
}

export const EVENT_COLUMNS = `ev.stream_id, ev.node, ev.body`;

/** The stored event, exact as written (its body is a one-event batch); null for a damaged row. */
export function eventOf(r: EventRecord): ConnEvent | null {
  try {
    return decodeBatch(r.body).events[0] ?? null;
  } catch {
    return null;
  }
}

export function eventRowOf(r: EventRecord): EventRow | null {
  const event = eventOf(r);
  return event ? { node: r.node, streamId: r.stream_id, event } : null;
}
