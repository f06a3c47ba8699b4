// Reading stored events back in the order they happened, in per-source
// batches: how a consumer rebuilds its in-memory state after a restart.
//
// The ring stores batches, and batches of different nodes overlap in time, so
// rows are read in order of their earliest event and merged: once a row whose
// earliest event is at F has been read, no unread row holds anything before
// F, so every pending event before F can go out in order. Pending events are
// those of rows overlapping in time, a few batches' worth.
import { InvalidArgumentError } from "../../errors/mod.js";
import type { ConnEvent } from "../../model/mod.js";
import type { EventSource, ReplayBatch, ReplayQuery } from "../store.js";
import { decodeRowEvents, MAX_ROW_SPAN_US, unpackBody } from "./event-rows.js";
import { DEFAULT_REPLAY_BATCH } from "./options.js";
import type { PreparedStatements } from "./statements.js";

// Rows read per page: large enough to amortize the query, small enough that
// a page of batches of 1000 events is a few MB in memory, never the ring.
const REPLAY_PAGE_ROWS = 64;

// Keyset pagination on the first_us index (entries are (first_us, id)). A row
// spans at most MAX_ROW_SPAN_US, so rows that reach sinceUs start no earlier
// than sinceUs - MAX_ROW_SPAN_US: the scan begins there, not at the ring's start.
const REPLAY_PAGE_SQL = `SELECT b.id, b.stream_id, b.first_us, b.body, s.node, s.boot_id, s.agent_start_us
       FROM event_batches b JOIN streams s ON s.id = b.stream_id
       WHERE b.first_us >= @lo AND (b.first_us > @f OR (b.first_us = @f AND b.id > @id)) AND b.last_us >= @since
       ORDER BY b.first_us, b.id LIMIT @limit`;

interface ReplayRow {
  id: number;
  stream_id: number;
  first_us: number;
  body: Buffer;
  node: string;
  boot_id: string;
  agent_start_us: number;
}

interface Pending {
  streamId: number;
  source: EventSource;
  event: ConnEvent;
}

/** Old replay order: wall time, then stream, then seq. */
const byTime = (a: Pending, b: Pending): number =>
  a.event.timeUs - b.event.timeUs || a.streamId - b.streamId || a.event.seq - b.event.seq;

/**
 * @param open the store's statements, asked again for every page: the store
 *   may be closed between two batches, which must then fail, not read a closed file.
 */
export async function* replayEvents(open: () => PreparedStatements, query: ReplayQuery): AsyncIterable<ReplayBatch> {
  const batchSize = query.batchSize ?? DEFAULT_REPLAY_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw InvalidArgumentError.format("batchSize", "must be an integer >= 1");
  const since = query.sinceUs;
  const lo = since - MAX_ROW_SPAN_US;
  let key = { f: lo, id: -1 };
  let pending: Pending[] = [];
  const sources = new Map<number, EventSource>();
  for (;;) {
    // Each page is read in full before yielding: an open SQLite cursor would
    // make the connection refuse writes made by the consumer between batches.
    const rows = open().get(REPLAY_PAGE_SQL).all({ lo, ...key, since, limit: REPLAY_PAGE_ROWS }) as ReplayRow[];
    for (const r of rows) {
      let source = sources.get(r.stream_id);
      if (!source) {
        source = { node: r.node, bootId: r.boot_id, agentStartUs: r.agent_start_us };
        sources.set(r.stream_id, source);
      }
      let events: ConnEvent[];
      try {
        events = decodeRowEvents(unpackBody(r.body));
      } catch {
        // Only a damaged row gets here: the rest of the replay is still worth having.
        continue;
      }
      for (const event of events) if (event.timeUs >= since) pending.push({ streamId: r.stream_id, source, event });
    }
    const done = rows.length < REPLAY_PAGE_ROWS;
    pending.sort(byTime);
    // Everything before the last row's start is final: later rows start at or after it.
    const last = rows[rows.length - 1];
    const cut = done || !last ? pending.length : firstAtOrAfter(pending, last.first_us);
    yield* batches(pending.slice(0, cut), batchSize);
    pending = pending.slice(cut);
    if (done) return;
    key = { f: last!.first_us, id: last!.id };
  }
}

/** Index of the first pending event at or after `us` (pending is sorted). */
function firstAtOrAfter(pending: Pending[], us: number): number {
  let lo = 0;
  let hi = pending.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (pending[mid]!.event.timeUs < us) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Runs of one stream's consecutive events, at most batchSize each. */
function* batches(events: Pending[], batchSize: number): Iterable<ReplayBatch> {
  let batch: ReplayBatch | null = null;
  let batchStream = -1;
  for (const p of events) {
    if (batch && (p.streamId !== batchStream || batch.events.length >= batchSize)) {
      yield batch;
      batch = null;
    }
    if (!batch) {
      batch = { source: p.source, events: [] };
      batchStream = p.streamId;
    }
    batch.events.push(p.event);
  }
  if (batch) yield batch;
}
