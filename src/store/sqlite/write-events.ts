// Writing raw events: one event_batches row per putEvents call, its body the
// transport's batch encoding (deflated, see event-rows.ts), so the consumer's write costs one insert per
// received batch instead of one indexed row per event.
//
// Idempotent, because the durable JetStream consumer re-delivers whatever it
// did not ack, sometimes minus the events it already saw: a row claims the
// seq range [first_seq, last_seq] of its stream, and an event whose seq lies
// in a stored range is a duplicate. Rows of one stream therefore never
// overlap, which is what lets the overlap lookup walk back from the newest.
import type Database from "better-sqlite3";
import { InvalidArgumentError } from "../../errors/mod.js";
import type { ConnEvent, ConnEventInit } from "../../model/mod.js";
import { encodeBatch } from "../../transport/batch-codec.js";
import type { EventSource, PutResult } from "../store.js";
import { buildBloom } from "../blocks/bloom.js";
import { MAX_ROW_SPAN_NS, MAX_ROW_SPAN_US, packBody, rowFilterKeys } from "./event-rows.js";
import type { PreparedStatements } from "./statements.js";

const INSERT_STREAM = `INSERT OR IGNORE INTO streams (node, boot_id, agent_start_us) VALUES (?, ?, ?)`;
const STREAM_ID = `SELECT id FROM streams WHERE node = ? AND boot_id = ? AND agent_start_us = ?`;
// Newest first from the batch's last seq: rows of a stream do not overlap, so
// the walk stops at the first row that ends before the batch begins.
const STORED_RANGES = `SELECT first_seq, last_seq FROM event_batches
       WHERE stream_id = ? AND first_seq <= ? ORDER BY first_seq DESC`;
const INSERT_BATCH = `INSERT OR IGNORE INTO event_batches
       (stream_id, first_seq, last_seq, first_us, last_us, first_ns, last_ns, count, filter, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

type AnyEvent = ConnEvent | ConnEventInit;

export class EventWriter {
  readonly #statements: PreparedStatements;
  // Stream ids never change once assigned, and every batch names its stream.
  readonly #streamIds = new Map<string, number>();
  readonly #write: Database.Transaction<(source: EventSource, events: AnyEvent[]) => PutResult>;

  constructor(statements: PreparedStatements) {
    this.#statements = statements;
    // A batch is all or nothing: one event that cannot be keyed rolls back the rest.
    this.#write = statements.db.transaction((source: EventSource, events: AnyEvent[]) => this.#insert(source, events));
  }

  putEvents(source: EventSource, events: AnyEvent[]): PutResult {
    if (events.length === 0) return { written: 0, duplicates: 0 };
    for (const e of events) {
      if (!(Number.isSafeInteger(e.seq) && (e.seq as number) > 0)) {
        throw new InvalidArgumentError("an event without seq cannot be stored idempotently", { property: "seq" });
      }
    }
    return this.#write(source, events);
  }

  #insert(source: EventSource, events: AnyEvent[]): PutResult {
    const streamId = this.#streamId(source);
    const sorted = inSeqOrder(events);
    const stored = this.#storedRanges(streamId, sorted[0]!.seq as number, sorted[sorted.length - 1]!.seq as number);
    const insert = this.#statements.get(INSERT_BATCH);
    let written = 0;
    for (const run of fresh(sorted, stored)) {
      const span = spanOf(run);
      const body = packBody(encodeBatch(source, run));
      const changes = insert.run(
        streamId,
        run[0]!.seq,
        run[run.length - 1]!.seq,
        span.minUs,
        span.maxUs,
        span.minNs,
        span.maxNs,
        run.length,
        buildBloom(rowFilterKeys(run)),
        body,
      ).changes;
      if (changes > 0) written += run.length;
    }
    return { written, duplicates: events.length - written };
  }

  #streamId(src: EventSource): number {
    const key = `${src.node}\0${src.bootId}\0${src.agentStartUs ?? 0}`;
    let id = this.#streamIds.get(key);
    if (id === undefined) {
      const args = [src.node, src.bootId, src.agentStartUs ?? 0];
      this.#statements.get(INSERT_STREAM).run(...args);
      id = (this.#statements.get(STREAM_ID).get(...args) as { id: number }).id;
      this.#streamIds.set(key, id);
    }
    return id;
  }

  /** Stored seq ranges of the stream that overlap [first, last], ascending. */
  #storedRanges(streamId: number, first: number, last: number): SeqRange[] {
    const ranges: SeqRange[] = [];
    for (const r of this.#statements.get(STORED_RANGES).iterate(streamId, last) as Iterable<SeqRange>) {
      if (r.last_seq < first) break;
      ranges.push(r);
    }
    return ranges.reverse();
  }
}

interface SeqRange {
  first_seq: number;
  last_seq: number;
}

/** Sorted by seq, one event per seq (a repeated seq within one call is a duplicate too). */
function inSeqOrder(events: AnyEvent[]): AnyEvent[] {
  const sorted = events.slice().sort((a, b) => (a.seq as number) - (b.seq as number));
  return sorted.filter((e, i) => i === 0 || e.seq !== sorted[i - 1]!.seq);
}

/**
 * The events no stored row claims, in runs that become one row each: a run
 * never straddles a stored range (rows must not overlap) and never spans more
 * than MAX_ROW_SPAN_US / MAX_ROW_SPAN_NS (what window queries rely on). A
 * normal batch is a single run.
 */
function* fresh(sorted: AnyEvent[], stored: SeqRange[]): Iterable<AnyEvent[]> {
  let run: AnyEvent[] = [];
  let minUs = 0;
  let maxUs = 0;
  let minNs = 0n;
  let maxNs = 0n;
  let r = 0;
  for (const e of sorted) {
    const seq = e.seq as number;
    while (r < stored.length && stored[r]!.last_seq < seq) r++;
    const range = stored[r];
    if (range && range.first_seq <= seq) continue; // claimed by a stored row
    const us = e.timeUs ?? 0;
    const ns = e.tsNs;
    const prev = run[run.length - 1];
    const straddles = prev !== undefined && stored.some((s) => s.first_seq > (prev.seq as number) && s.first_seq < seq);
    const tooWide =
      run.length > 0 &&
      (Math.max(maxUs, us) - Math.min(minUs, us) > MAX_ROW_SPAN_US || bigMax(maxNs, ns) - bigMin(minNs, ns) > MAX_ROW_SPAN_NS);
    if (straddles || tooWide) {
      yield run;
      run = [];
    }
    if (run.length === 0) {
      minUs = maxUs = us;
      minNs = maxNs = ns;
    } else {
      minUs = Math.min(minUs, us);
      maxUs = Math.max(maxUs, us);
      minNs = bigMin(minNs, ns);
      maxNs = bigMax(maxNs, ns);
    }
    run.push(e);
  }
  if (run.length > 0) yield run;
}

/**
 * The earliest and latest times of a run, not its first and last event's: an
 * event the agent released late may sit anywhere in seq order, and window
 * queries need the true bounds. Kernel ns are bound as bigint: exact past 2^53.
 */
function spanOf(run: AnyEvent[]): { minUs: number; maxUs: number; minNs: bigint; maxNs: bigint } {
  let minUs = Number.MAX_SAFE_INTEGER;
  let maxUs = 0;
  let minNs = run[0]!.tsNs;
  let maxNs = minNs;
  for (const e of run) {
    const us = e.timeUs ?? 0;
    if (us < minUs) minUs = us;
    if (us > maxUs) maxUs = us;
    if (e.tsNs < minNs) minNs = e.tsNs;
    if (e.tsNs > maxNs) maxNs = e.tsNs;
  }
  return { minUs, maxUs, minNs, maxNs };
}

const bigMin = (a: bigint, b: bigint): bigint => (a < b ? a : b);
const bigMax = (a: bigint, b: bigint): bigint => (a > b ? a : b);
