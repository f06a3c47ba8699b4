// Reading stored events back in the order they happened, in per-source
// batches: how a consumer rebuilds its in-memory state after a restart.
import { InvalidArgumentError } from "../../errors/mod.js";
import { decodeEvent } from "../plain.js";
import type { ReplayBatch, ReplayQuery } from "../store.js";
import { DEFAULT_REPLAY_BATCH } from "./options.js";
import type { PreparedStatements } from "./statements.js";
import { TS_NS } from "./time-columns.js";

// Rows read per replay page: large enough to amortize the query, small enough
// that a replay of hours of events never holds them all in memory.
const REPLAY_PAGE = 5000;

const REPLAY_PAGE_SQL = `SELECT e.stream_id, e.seq, e.time_us, ${TS_NS}, e.body, s.node, s.boot_id, s.agent_start_us
       FROM events e JOIN streams s ON s.id = e.stream_id
       WHERE e.time_us >= @t AND (e.time_us > @t OR e.stream_id > @sid OR (e.stream_id = @sid AND e.seq > @seq))
       ORDER BY e.time_us, e.stream_id, e.seq LIMIT @limit`;

interface ReplayRow {
  stream_id: number;
  seq: number;
  time_us: number;
  /** Decimal text (TS_NS): exact. */
  ts_ns: string;
  body: Buffer;
  node: string;
  boot_id: string;
  agent_start_us: number;
}

/**
 * @param open the store's statements, asked again for every page: the store
 *   may be closed between two batches, which must then fail, not read a closed file.
 */
export async function* replayEvents(open: () => PreparedStatements, query: ReplayQuery): AsyncIterable<ReplayBatch> {
  const batchSize = query.batchSize ?? DEFAULT_REPLAY_BATCH;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw InvalidArgumentError.format("batchSize", "must be an integer >= 1");
  // Keyset pagination on the events_time index, whose entries are (time_us,
  // stream_id, seq) because the table is clustered on its primary key. Each
  // page is read in full before yielding: an open SQLite cursor would make
  // the connection refuse writes made by the consumer between batches.
  let key = { t: query.sinceUs, sid: -1, seq: -1 };
  for (;;) {
    const rows = open().get(REPLAY_PAGE_SQL).all({ ...key, limit: REPLAY_PAGE }) as ReplayRow[];
    let batch: ReplayBatch | null = null;
    let batchStream = -1;
    for (const r of rows) {
      if (batch && (r.stream_id !== batchStream || batch.events.length >= batchSize)) {
        yield batch;
        batch = null;
      }
      if (!batch) {
        batch = { source: { node: r.node, bootId: r.boot_id, agentStartUs: r.agent_start_us }, events: [] };
        batchStream = r.stream_id;
      }
      batch.events.push(decodeEvent(r.body, BigInt(r.ts_ns)));
    }
    if (batch) yield batch;
    if (rows.length < REPLAY_PAGE) return;
    const last = rows[rows.length - 1]!;
    key = { t: last.time_us, sid: last.stream_id, seq: last.seq };
  }
}
