// Listing traces, newest first, with keyset pagination (../cursor.ts). The
// SQL narrows by columns and hop endpoints; every row is then checked with
// the same predicate the SQLite store uses (traceMatches), so the two stores
// answer every TraceFilter alike, including the corners SQL would word
// differently (an absent endpoint reads as the empty one; labels select one pod).
import type { Trace } from "../../model/mod.js";
import { encodeCursor } from "../cursor.js";
import { decodeTrace } from "../plain.js";
import type { TraceFilter, TracePage } from "../store.js";
import { traceMatches, traceQuery, type TraceQuery } from "../sqlite/trace-match.js";
import type { PgConnection } from "./connection.js";

/** SQL for the rows of a listing: a superset of the matches, in listing order. */
export function listingSql(q: TraceQuery): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const p = (v: unknown): string => {
    params.push(v);
    return `$${params.length}`;
  };
  // An open trace (end 0) has not ended: it overlaps every later window.
  if (q.since !== undefined) where.push(`(end_us >= ${p(q.since)} OR end_us = 0)`);
  if (q.until !== undefined) where.push(`start_us <= ${p(q.until)}`);
  if (q.outcomes.length > 0) where.push(`outcome = ANY(${p(q.outcomes)}::int4[])`);
  if (q.role !== undefined) where.push(`origin_role = ${p(q.role)}`);
  if (q.cursor) {
    const cs = p(q.cursor.startUs);
    where.push(`(start_us < ${cs} OR (start_us = ${cs} AND trace_id < ${p(q.cursor.traceId)}))`);
  }
  const endpoint = (cond: string): string => `EXISTS (SELECT 1 FROM trace_endpoints e WHERE e.trace_id = traces.trace_id AND ${cond})`;
  // Only conditions an absent endpoint cannot meet: those that can are left to traceMatches.
  if (q.pod) where.push(endpoint(`e.pod = ${p(q.pod)}`));
  if (q.labels.length > 0) where.push(endpoint(`e.labels @> ${p(JSON.stringify(Object.fromEntries(q.labels)))}::jsonb`));
  if (q.ip && q.port) where.push(endpoint(`e.ip = ${p(q.ip)} AND e.port = ${p(q.port)}`));
  else if (q.ip) where.push(endpoint(`e.ip = ${p(q.ip)}`));
  else if (q.port) where.push(endpoint(`e.port = ${p(q.port)}`));
  return { where, params };
}

export async function listTraces(db: PgConnection, f: TraceFilter): Promise<TracePage> {
  const q = traceQuery(f);
  const { where, params } = listingSql(q);
  // One trace past the page tells whether another page follows.
  const want = q.limit + 1;
  const traces: Trace[] = [];
  let after: { startUs: number; traceId: string } | null = null;
  for (;;) {
    const w = [...where];
    const ps = [...params];
    if (after) {
      ps.push(after.startUs, after.traceId);
      w.push(`(start_us < $${ps.length - 1} OR (start_us = $${ps.length - 1} AND trace_id < $${ps.length}))`);
    }
    ps.push(want);
    const sql =
      `SELECT trace_id, start_us, body FROM traces` +
      (w.length ? ` WHERE ${w.join(" AND ")}` : "") +
      ` ORDER BY start_us DESC, trace_id DESC LIMIT $${ps.length}`;
    const rows = await db.query<{ trace_id: string; start_us: number; body: Buffer }>(sql, ps);
    for (const r of rows) {
      const t = decodeTrace(r.body);
      if (traceMatches(t, q)) traces.push(t);
      if (traces.length >= want) break;
    }
    if (traces.length >= want || rows.length < want) break;
    const last = rows[rows.length - 1]!;
    after = { startUs: last.start_us, traceId: last.trace_id };
  }
  const more = traces.length > q.limit;
  if (more) traces.length = q.limit;
  const last = traces[traces.length - 1];
  return {
    traces,
    nextCursor: more && last ? encodeCursor({ startUs: last.startUs, traceId: last.traceId }) : null,
  };
}
