// Reading stored events back in the order they happened (wall time, then
// stream, then seq: the SQLite store's order), page by page with a keyset on
// that order, in runs of one source's consecutive events.
import { InvalidArgumentError } from "../../errors/mod.js";
import type { EventSource, ReplayBatch, ReplayQuery } from "../store.js";
import { DEFAULT_REPLAY_BATCH } from "../sqlite/options.js";
import type { PgConnection } from "./connection.js";
import { EVENT_COLUMNS, eventOf, type EventRecord } from "./event-rows.js";

// Rows per page: a few MB of memory, never the whole table.
const REPLAY_PAGE_ROWS = 2000;

const PAGE = `SELECT ${EVENT_COLUMNS}, ev.time_us, ev.seq, s.boot_id, s.agent_start_us
    FROM events ev JOIN streams s ON s.id = ev.stream_id
   WHERE ev.time_us >= $1 AND (ev.time_us, ev.stream_id, ev.seq) > ($2, $3, $4)
   ORDER BY ev.time_us, ev.stream_id, ev.seq LIMIT $5`;

interface ReplayRecord extends EventRecord {
  time_us: number;
  seq: number;
  boot_id: string;
  agent_start_us: number;
}

/** @param open the store's connection, asked again for every page: a store closed between two batches fails, not reads. */
export async function* replayEvents(open: () => PgConnection, query: ReplayQuery): AsyncIterable<ReplayBatch> {
  const batchSize = query.batchSize ?? DEFAULT_REPLAY_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw InvalidArgumentError.format("batchSize", "must be an integer >= 1");
  const sources = new Map<number, EventSource>();
  let key: [number, number, number] = [query.sinceUs, -1, -1];
  let batch: ReplayBatch | null = null;
  let batchStream = -1;
  for (;;) {
    const rows = await open().query<ReplayRecord>(PAGE, [query.sinceUs, ...key, REPLAY_PAGE_ROWS]);
    for (const r of rows) {
      let source = sources.get(r.stream_id);
      if (!source) {
        source = { node: r.node, bootId: r.boot_id, agentStartUs: r.agent_start_us };
        sources.set(r.stream_id, source);
      }
      const event = eventOf(r);
      // Only a damaged row has none: the rest of the replay is still worth having.
      if (!event) continue;
      if (batch && (r.stream_id !== batchStream || batch.events.length >= batchSize)) {
        yield batch;
        batch = null;
      }
      if (!batch) {
        batch = { source, events: [] };
        batchStream = r.stream_id;
      }
      batch.events.push(event);
    }
    if (rows.length < REPLAY_PAGE_ROWS) break;
    const last = rows[rows.length - 1]!;
    key = [last.time_us, last.stream_id, last.seq];
  }
  if (batch) yield batch;
}
