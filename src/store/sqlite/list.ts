// Listing traces, newest first, with filters that combine with AND and keyset
// pagination (see ../cursor.ts), over both homes of a trace: the hot table
// (recent, plain protobuf) and the sealed blocks. Hot rows come in index
// order and are filtered by their columns, then by decoding; blocks are
// visited newest first by their latest start, skipped by their summary
// (times, outcome and role bitmasks, Bloom filter) whenever it rules them
// out, and the walk stops once the page is full and no later block can hold
// anything newer than the page's last trace.
import type { Trace } from "../../model/mod.js";
import { bloomKey, bloomMayHave } from "../blocks/mod.js";
import { encodeCursor } from "../cursor.js";
import { decodeTrace } from "../plain.js";
import type { TraceFilter, TracePage } from "../store.js";
import { deadIndexes, readBlock } from "./block-cache.js";
import type { PreparedStatements } from "./statements.js";
import { listsBefore, traceMatches, traceQuery, type TraceQuery } from "./trace-match.js";

const BLOCK_FILTER = `SELECT filter FROM trace_blocks WHERE id = ?`;

/** Keeps the best `size` traces in listing order. */
class Page {
  readonly traces: Trace[] = [];
  readonly #size: number;

  constructor(size: number) {
    this.#size = size;
  }

  get full(): boolean {
    return this.traces.length >= this.#size;
  }

  /** The last trace of a full page: nothing listed after it can enter. */
  get worst(): Trace | undefined {
    return this.full ? this.traces[this.traces.length - 1] : undefined;
  }

  /** False when `t` ranks below a full page's last (and everything after it in a walk ranks lower too). */
  offer(t: Trace): boolean {
    const worst = this.worst;
    if (worst && !listsBefore(t, worst)) return false;
    let i = this.traces.length;
    while (i > 0 && listsBefore(t, this.traces[i - 1]!)) i--;
    this.traces.splice(i, 0, t);
    if (this.traces.length > this.#size) this.traces.pop();
    return true;
  }
}

export function listTraces(statements: PreparedStatements, f: TraceFilter): TracePage {
  const q = traceQuery(f);
  // One trace past the page tells whether another page follows.
  const page = new Page(q.limit + 1);
  listHot(statements, q, page);
  listBlocks(statements, q, page);
  const traces = page.traces;
  const more = traces.length > q.limit;
  if (more) traces.pop();
  const last = traces[traces.length - 1];
  return {
    traces,
    nextCursor: more && last ? encodeCursor({ startUs: last.startUs, traceId: last.traceId }) : null,
  };
}

/** Conditions on the hot table's columns: all but pod and address, which need the body. */
function listHot(statements: PreparedStatements, q: TraceQuery, page: Page): void {
  const where: string[] = [];
  const p: Record<string, string | number> = {};
  if (q.since !== undefined) {
    where.push("(end_us >= @since OR end_us = 0)");
    p.since = q.since;
  }
  if (q.until !== undefined) {
    where.push("start_us <= @until");
    p.until = q.until;
  }
  if (q.outcomes.length > 0) {
    where.push(`outcome IN (${q.outcomes.map((_, i) => `@o${i}`).join(", ")})`);
    q.outcomes.forEach((o, i) => (p[`o${i}`] = o));
  }
  if (q.role !== undefined) {
    where.push("origin_role = @role");
    p.role = q.role;
  }
  if (q.cursor) {
    where.push("(start_us < @cs OR (start_us = @cs AND trace_id < @ci))");
    p.cs = q.cursor.startUs;
    p.ci = q.cursor.traceId;
  }
  const sql =
    `SELECT body FROM hot_traces` + (where.length ? ` WHERE ${where.join(" AND ")}` : "") + ` ORDER BY start_us DESC, trace_id DESC`;
  // Rows arrive in listing order, so the first rows that pass fill the page.
  for (const row of statements.get(sql).iterate(p) as IterableIterator<{ body: Buffer }>) {
    const t = decodeTrace(row.body);
    if (traceMatches(t, q) && (!page.offer(t) || page.full)) break;
  }
}

function listBlocks(statements: PreparedStatements, q: TraceQuery, page: Page): void {
  const where: string[] = [];
  const p: Record<string, number> = {};
  if (q.since !== undefined) {
    where.push("max_end_us >= @since");
    p.since = q.since;
  }
  const latestStart = Math.min(q.until ?? Infinity, q.cursor?.startUs ?? Infinity);
  if (latestStart !== Infinity) {
    where.push("min_start_us <= @latest");
    p.latest = latestStart;
  }
  if (q.outcomes.length > 0) {
    where.push("(outcomes & @outcomes) != 0");
    p.outcomes = q.outcomes.reduce((m, o) => m | 2 ** Math.min(30, Math.max(0, o)), 0);
  }
  if (q.role !== undefined) {
    where.push("(roles & @roles) != 0");
    p.roles = 2 ** Math.min(30, Math.max(0, q.role));
  }
  const sql =
    `SELECT id, max_start_us FROM trace_blocks` + (where.length ? ` WHERE ${where.join(" AND ")}` : "") + ` ORDER BY max_start_us DESC, id DESC`;
  // All rows first: better-sqlite3 cannot run the filter and body reads while a cursor is open.
  const blocks = statements.get(sql).all(p) as { id: number; max_start_us: number }[];
  const keys = bloomKeys(q);
  for (const b of blocks) {
    const worst = page.worst;
    // Blocks come by latest start, newest first: this one and all after it start before the page's last.
    if (worst && b.max_start_us < worst.startUs) break;
    if (keys.length > 0) {
      const filter = statements.get(BLOCK_FILTER).pluck().get(b.id) as Buffer | undefined;
      if (filter && !keys.every((k) => bloomMayHave(filter, k))) continue;
    }
    const block = readBlock(statements, b.id);
    if (!block) continue;
    const dead = deadIndexes(statements, b.id);
    // Block order is oldest first: walk it backwards, in listing order.
    for (let i = block.traces.length - 1; i >= 0; i--) {
      const t = block.traces[i]!;
      if (dead.has(i) || !traceMatches(t, q)) continue;
      if (!page.offer(t)) break;
    }
  }
}

/** Bloom keys every trace of the answer has. */
function bloomKeys(q: TraceQuery): string[] {
  const keys: string[] = [];
  if (q.pod !== undefined) keys.push(bloomKey.pod(q.pod));
  // Blocks sealed before labels existed hold no labelled trace: skipping them is right.
  for (const [k, v] of q.labels) keys.push(bloomKey.label(k, v));
  if (q.ip !== undefined && q.port !== undefined) keys.push(bloomKey.addr(q.ip, q.port));
  else if (q.ip !== undefined) keys.push(bloomKey.ip(q.ip));
  else if (q.port !== undefined) keys.push(bloomKey.port(q.port));
  return keys;
}
