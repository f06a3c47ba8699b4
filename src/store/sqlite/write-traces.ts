// Writing traces: each batch into the hot table (plain protobuf, one row per
// trace, queryable at once), and from there, once enough have gathered or the
// oldest has waited long enough, sealed into one compressed block with its
// summary and keys (src/store/blocks/). Writes are idempotent, because the
// durable JetStream consumer re-delivers whatever it did not ack: a trace is
// keyed by its id, so a second copy replaces the first. When the first copy
// is already sealed, the block keeps it but marks it dead (trace_dead), so
// reads see only the new one.
import type Database from "better-sqlite3";
import { InvalidArgumentError } from "../../errors/mod.js";
import { v1, type Trace, type TraceInit } from "../../model/mod.js";
import { sealBlock, traceLastUs } from "../blocks/mod.js";
import { decodeTrace } from "../plain.js";
import type { PutResult } from "../store.js";
import { existingTraceIds, findSealed } from "./lookup.js";
import type { PreparedStatements } from "./statements.js";

const INSERT_HOT = `INSERT OR REPLACE INTO hot_traces (trace_id, start_us, end_us, last_us, outcome, origin_role, body)
       VALUES (?, ?, ?, ?, ?, ?, ?)`;
const HOT_HAS = `SELECT 1 FROM hot_traces WHERE trace_id = ?`;
const HOT_COUNT = `SELECT count(*) FROM hot_traces`;
const OLDEST_HOT = `SELECT trace_id, start_us, body FROM hot_traces ORDER BY start_us, trace_id LIMIT ?`;
const DELETE_HOT_UPTO = `DELETE FROM hot_traces WHERE (start_us, trace_id) <= (?, ?)`;
const INSERT_BLOCK = `INSERT INTO trace_blocks (count, min_start_us, max_start_us, min_last_us, max_last_us, max_end_us,
         outcomes, roles, filter, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_KEY = `INSERT OR IGNORE INTO trace_keys (key, block) VALUES (?, ?)`;
const MARK_DEAD = `INSERT OR IGNORE INTO trace_dead (block, idx) VALUES (?, ?)`;

/** Blocks one write may seal (each ~4096 traces, tens of ms). */
const MAX_SEALS_PER_WRITE = 4;

export interface TraceWriterOptions {
  /** Seal once this many traces are hot. */
  sealTraces: number;
  /** Seal once the oldest hot trace has waited this long, ms. */
  sealAfterMs: number;
  /** Wall clock, ms (tests move it). Default Date.now. */
  now?: () => number;
}

export class TraceWriter {
  readonly #statements: PreparedStatements;
  readonly #sealTraces: number;
  readonly #sealAfterMs: number;
  readonly #now: () => number;
  readonly #write: Database.Transaction<(traces: (Trace | TraceInit)[]) => PutResult>;
  readonly #sealOne: Database.Transaction<(limit: number) => number>;
  // When the hot table last went from empty to not empty (this process's
  // view; a store opened on hot rows counts them from its opening).
  #hotSinceMs: number | null;
  // The traces this writer put in the hot table, by id, so that sealing need
  // not decode their bodies again (a third of a seal's time, measured). Rows
  // it did not write (written before a restart) are decoded.
  readonly #hotTraces = new Map<string, Trace | TraceInit>();

  constructor(statements: PreparedStatements, o: TraceWriterOptions) {
    this.#statements = statements;
    this.#sealTraces = o.sealTraces;
    this.#sealAfterMs = o.sealAfterMs;
    this.#now = o.now ?? Date.now;
    // A batch is all or nothing: one trace that cannot be keyed rolls back the rest.
    this.#write = statements.db.transaction((traces: (Trace | TraceInit)[]) => this.#insert(traces));
    // A seal moves traces from hot rows to a block in one transaction: a
    // reader sees them in one place or the other, never both or neither.
    this.#sealOne = statements.db.transaction((limit: number) => this.#seal(limit));
    this.#hotSinceMs = this.#hotCount() > 0 ? this.#now() : null;
  }

  putTraces(traces: (Trace | TraceInit)[]): PutResult {
    const result = this.#write(traces);
    this.#sealIfDue();
    return result;
  }

  /**
   * Seal what is hot now, however little, into blocks (close() and tests do;
   * the writer itself seals when enough has gathered). Returns the traces sealed.
   */
  seal(): number {
    let sealed = 0;
    for (let n = this.#hotCount(); n > 0; n = this.#hotCount()) sealed += this.#sealOne(this.#blockSize(n));
    this.#hotSinceMs = null;
    return sealed;
  }

  /**
   * Seal when enough traces are hot or the oldest waited long enough: a few
   * blocks at most per write, so that a hot table grown large (a file
   * upgraded from schema 2 moves every stored trace there) is worked off
   * over several writes instead of stalling one.
   */
  #sealIfDue(): void {
    for (let i = 0; i < MAX_SEALS_PER_WRITE; i++) {
      const n = this.#hotCount();
      if (n === 0) return;
      const aged = this.#hotSinceMs !== null && this.#now() - this.#hotSinceMs >= this.#sealAfterMs;
      if (n < this.#sealTraces && !aged) return;
      this.#sealOne(this.#blockSize(n));
      this.#hotSinceMs = this.#hotCount() > 0 ? (aged ? this.#hotSinceMs : this.#now()) : null;
    }
  }

  /** Traces for the next block: all of them up to twice the target (a batch overshoots it), else the target. */
  #blockSize(hot: number): number {
    return hot < 2 * this.#sealTraces ? hot : this.#sealTraces;
  }

  #hotCount(): number {
    return this.#statements.get(HOT_COUNT).pluck().get() as number;
  }

  #insert(traces: (Trace | TraceInit)[]): PutResult {
    const s = this.#statements;
    for (const t of traces) {
      if (!t.traceId) throw new InvalidArgumentError("a trace without trace_id cannot be stored", { property: "traceId" });
    }
    // Which ids are stored already, in one query per table for the batch.
    const stored = existingTraceIds(s, [...new Set(traces.map((t) => t.traceId!))]);
    const insertHot = s.get(INSERT_HOT);
    let written = 0;
    for (const t of traces) {
      const id = t.traceId!;
      if (stored.has(id)) {
        // A sealed copy, if any, gives way to this one (a hot copy is simply replaced).
        if (s.get(HOT_HAS).get(id) === undefined) this.#supersede(id);
      } else {
        stored.add(id);
        written++;
      }
      this.#hotTraces.set(id, t);
      insertHot.run(
        id,
        Number(t.startUs ?? 0),
        Number(t.endUs ?? 0),
        traceLastUs(t),
        t.outcome ?? 0,
        t.resetOrigin?.role ?? 0,
        v1.Trace.encode(t).finish(),
      );
    }
    if (traces.length > 0) this.#hotSinceMs ??= this.#now();
    return { written, duplicates: traces.length - written };
  }

  #supersede(traceId: string): void {
    const place = findSealed(this.#statements, traceId);
    if (place) this.#statements.get(MARK_DEAD).run(place.block, place.index);
  }

  /** The `limit` hot traces that started first, as one block. */
  #seal(limit: number): number {
    const s = this.#statements;
    const rows = s.get(OLDEST_HOT).all(limit) as { trace_id: string; start_us: number; body: Buffer }[];
    if (rows.length === 0) return 0;
    const traces = rows.map((r) => {
      const t = this.#hotTraces.get(r.trace_id);
      this.#hotTraces.delete(r.trace_id);
      return t ?? decodeTrace(r.body);
    });
    // Rows another connection sealed are never asked for here: do not let their entries pile up.
    if (this.#hotTraces.size > 4 * this.#sealTraces) this.#hotTraces.clear();
    const block = sealBlock(traces);
    const id = Number(
      s
        .get(INSERT_BLOCK)
        .run(block.count, block.minStartUs, block.maxStartUs, block.minLastUs, block.maxLastUs, block.maxEndUs, block.outcomes, block.roles, block.filter, block.body)
        .lastInsertRowid,
    );
    const insertKey = s.get(INSERT_KEY);
    for (const k of new Set(block.keys)) insertKey.run(k, id);
    // The rows read are exactly those up to the last one in (start_us, trace_id) order.
    const last = rows[rows.length - 1]!;
    s.get(DELETE_HOT_UPTO).run(last.start_us, last.trace_id);
    return rows.length;
  }
}

