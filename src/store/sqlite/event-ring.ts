// Reading the raw-event ring by time for one timeline query. Rows are found
// by the (last_us, first_us) index (a row spans at most MAX_ROW_SPAN_US, so
// rows overlapping a window are one index range); a row's body is read only
// when its Bloom filter may hold the probe's keys, decoded only when its
// inflated bytes hold the probe's needles, and kept decoded for the rest of the query: a
// trace's sockets and tuples look at the same few seconds again and again.
//
// A query looks at most `rowBudget` rows; past it the ring stops answering
// and says so (`cut`), so the timeline is marked truncated rather than one
// query (a long-open connection, a rare endpoint) reading the whole ring.
import { bloomMayHave } from "../blocks/bloom.js";
import { decodeRowEvents, MAX_ROW_SPAN_NS, MAX_ROW_SPAN_US, unpackBody, type EventRow, type RowProbe } from "./event-rows.js";
import type { PreparedStatements } from "./statements.js";

/**
 * Rows one timeline query may look at. Looking is reading a ~0.5 KB filter
 * (~25 MB at most); bodies are read only for rows that may match. At 240k
 * events/s in batches of 1000 that is 3.5 min of the ring, far more at
 * ordinary rates.
 */
export const DEFAULT_RING_ROW_BUDGET = 50_000;

const ROWS_OVERLAPPING = `SELECT id, stream_id, first_us, last_us, filter FROM event_batches
       WHERE last_us >= @from AND last_us <= @lastMax AND first_us <= @to ORDER BY last_us, id`;
const ROWS_OVERLAPPING_DESC = `SELECT id, stream_id, first_us, last_us, filter FROM event_batches
       WHERE last_us >= @from AND last_us <= @lastMax AND first_us <= @to ORDER BY last_us DESC, id DESC`;
const ROWS_BY_NS = `SELECT id, stream_id, first_us, last_us, filter FROM event_batches
       WHERE stream_id = @stream AND last_ns >= @from AND last_ns <= @lastMax AND first_ns <= @to ORDER BY last_ns, id`;
const BODY = `SELECT body FROM event_batches WHERE id = ?`;
const NEWEST_US = `SELECT max(last_us) AS us FROM event_batches`;
const NODE_OF_STREAM = `SELECT node FROM streams WHERE id = ?`;
const STREAMS_OF_NODE = `SELECT id FROM streams WHERE node = ?`;

/** A row as the ring looks at it before deciding to read its body. */
export interface RingRow {
  id: number;
  stream_id: number;
  first_us: number;
  last_us: number;
  filter: Buffer;
}

/**
 * What a timeline asks of the raw events: the part of EventRing that
 * socket-events.ts, socket-window.ts and timeline.ts use. A store that keeps
 * events elsewhere (PostgreSQL, one indexed row each) answers it from the
 * events it read for the query (../postgres/memory-ring.ts), so both stores
 * run the same timeline logic.
 */
export interface RingReader {
  readonly cut: boolean;
  newestUs(): number | null;
  find(from: number, to: number, probe: RowProbe): EventRow[];
  scan(
    w: { from: number; to?: number; newestFirst?: boolean },
    probe: RowProbe,
    visit: (rows: EventRow[] | null, row: Pick<RingRow, "last_us">) => boolean,
  ): void;
  scanNodeByNs(node: string, fromNs: bigint, toNs: bigint, probe: RowProbe, visit: (rows: EventRow[]) => boolean): void;
}

export class EventRing implements RingReader {
  readonly #statements: PreparedStatements;
  readonly #decoded = new Map<number, EventRow[]>();
  readonly #nodes = new Map<number, string>();
  #budget: number;
  #cut = false;

  constructor(statements: PreparedStatements, rowBudget = DEFAULT_RING_ROW_BUDGET) {
    this.#statements = statements;
    this.#budget = rowBudget;
  }

  /** True once a read stopped at the row budget: some rows were not looked at. */
  get cut(): boolean {
    return this.#cut;
  }

  /** Rows decoded so far: what the filters and needles did not spare. */
  get decodedRows(): number {
    return this.#decoded.size;
  }

  /** Wall µs of the newest event in the ring; null when it is empty. */
  newestUs(): number | null {
    return (this.#statements.get(NEWEST_US).get() as { us: number | null }).us;
  }

  /**
   * Every event of the rows overlapping [from, to] that may hold what `probe`
   * looks for, oldest row first. Other events of those rows come along (a
   * row is decoded whole): the caller filters by what it matches on, time included.
   */
  find(from: number, to: number, probe: RowProbe): EventRow[] {
    const out: EventRow[] = [];
    this.scan({ from, to }, probe, (rows) => {
      if (rows) for (const r of rows) out.push(r);
      return true;
    });
    return out;
  }

  /**
   * Visit each row overlapping [from, to] (to defaults to the newest) in
   * last_us order (newest first with `newestFirst`), with its decoded events
   * when it may hold what `probe` looks for and null when it cannot (the
   * visitor may still want to stop there), until `visit` returns false or
   * the budget runs out.
   */
  scan(
    w: { from: number; to?: number; newestFirst?: boolean },
    probe: RowProbe,
    visit: (rows: EventRow[] | null, row: RingRow) => boolean,
  ): void {
    const to = w.to ?? Number.MAX_SAFE_INTEGER;
    const lastMax = Math.min(Number.MAX_SAFE_INTEGER, to + MAX_ROW_SPAN_US);
    const sql = w.newestFirst ? ROWS_OVERLAPPING_DESC : ROWS_OVERLAPPING;
    // Iterating holds a cursor, which is fine: a timeline query runs to its
    // end synchronously and only reads (better-sqlite3 refuses writes meanwhile).
    for (const row of this.#statements.get(sql).iterate({ from: w.from, lastMax, to }) as Iterable<RingRow>) {
      if (!this.#spend()) return;
      if (!visit(this.#eventsIf(row, probe), row)) return;
    }
  }

  /**
   * Visit, per stream of `node`, the rows that may hold `probe` with an event
   * in kernel time [fromNs, toNs], in kernel-time order: how a socket with no
   * stored trace is found from its birth (streams of another boot of the
   * node simply hold nothing there). `visit` returns false to move on to the
   * next stream.
   */
  scanNodeByNs(node: string, fromNs: bigint, toNs: bigint, probe: RowProbe, visit: (rows: EventRow[], row: RingRow) => boolean): void {
    const streams = this.#statements.get(STREAMS_OF_NODE).all(node) as { id: number }[];
    // A row spans at most MAX_ROW_SPAN_NS: one ending later than that past toNs starts after it.
    const lastMax = toNs + MAX_ROW_SPAN_NS;
    for (const { id } of streams) {
      for (const row of this.#statements.get(ROWS_BY_NS).iterate({ stream: id, from: fromNs, lastMax, to: toNs }) as Iterable<RingRow>) {
        if (!this.#spend()) return;
        const events = this.#eventsIf(row, probe);
        if (events && !visit(events, row)) break;
      }
    }
  }

  #spend(): boolean {
    if (this.#budget <= 0) {
      this.#cut = true;
      return false;
    }
    this.#budget--;
    return true;
  }

  #eventsIf(row: RingRow, probe: RowProbe): EventRow[] | null {
    const cached = this.#decoded.get(row.id);
    if (cached) return cached;
    for (const key of probe.keys) if (!bloomMayHave(row.filter, key)) return null;
    const body = (this.#statements.get(BODY).get(row.id) as { body: Buffer } | undefined)?.body;
    if (!body) return null;
    let encoded: Buffer;
    try {
      encoded = unpackBody(body);
    } catch {
      // Only a damaged row gets here: skip it, keep the rest of the timeline.
      this.#decoded.set(row.id, []);
      return [];
    }
    for (const needle of probe.needles) if (encoded.indexOf(needle) === -1) return null;
    const node = this.#node(row.stream_id);
    let rows: EventRow[];
    try {
      rows = decodeRowEvents(encoded).map((event) => ({ node, streamId: row.stream_id, event }));
    } catch {
      rows = [];
    }
    this.#decoded.set(row.id, rows);
    return rows;
  }

  #node(streamId: number): string {
    let node = this.#nodes.get(streamId);
    if (node === undefined) {
      node = (this.#statements.get(NODE_OF_STREAM).get(streamId) as { node: string } | undefined)?.node ?? "";
      this.#nodes.set(streamId, node);
    }
    return node;
  }
}
