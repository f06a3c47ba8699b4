// Listing traces, newest first, with filters that combine with AND and keyset
// pagination (see ../cursor.ts). The SQL is built from the filter's shape: a
// condition only for what the filter names, so each shape uses its own index.
import { decodeCursor, encodeCursor } from "../cursor.js";
import { BadQueryError } from "../errors.js";
import { decodeTrace } from "../plain.js";
import type { TraceFilter, TracePage } from "../store.js";
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from "./options.js";
import type { PreparedStatements } from "./statements.js";

export function listTraces(statements: PreparedStatements, f: TraceFilter): TracePage {
  const limit = f.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new BadQueryError(`limit must be an integer between 1 and ${MAX_LIST_LIMIT}`, { param: "limit" });
  }
  const where: string[] = [];
  // One row past the page tells whether another page follows.
  const p: Record<string, string | number> = { limit: limit + 1 };
  if (f.since !== undefined) {
    // An open trace (end 0) has not ended, so it overlaps every later window.
    where.push("(t.end_us >= @since OR t.end_us = 0)");
    p.since = f.since;
  }
  if (f.until !== undefined) {
    where.push("t.start_us <= @until");
    p.until = f.until;
  }
  const outcomes = f.outcome === undefined ? [] : Array.isArray(f.outcome) ? f.outcome : [f.outcome];
  if (outcomes.length > 0) {
    where.push(`t.outcome IN (${outcomes.map((_, i) => `@o${i}`).join(", ")})`);
    outcomes.forEach((o, i) => (p[`o${i}`] = o));
  }
  if (f.role !== undefined) {
    where.push("t.origin_role = @role");
    p.role = f.role;
  }
  if (f.pod !== undefined) {
    where.push(
      "t.trace_id IN (SELECT trace_id FROM hops WHERE client_pod = @pod UNION SELECT trace_id FROM hops WHERE server_pod = @pod)",
    );
    p.pod = f.pod;
  }
  const addr = addressCondition(f.ip, f.port);
  if (addr) {
    where.push(addr);
    if (f.ip !== undefined) p.ip = f.ip;
    if (f.port !== undefined) p.port = f.port;
  }
  if (f.cursor !== undefined) {
    const c = decodeCursor(f.cursor);
    where.push("(t.start_us < @cs OR (t.start_us = @cs AND t.trace_id < @ci))");
    p.cs = c.startUs;
    p.ci = c.traceId;
  }
  const sql =
    `SELECT t.trace_id, t.start_us, t.body FROM traces t` +
    (where.length ? ` WHERE ${where.join(" AND ")}` : "") +
    ` ORDER BY t.start_us DESC, t.trace_id DESC LIMIT @limit`;
  const rows = statements.get(sql).all(p) as { trace_id: string; start_us: number; body: Buffer }[];
  const more = rows.length > limit;
  if (more) rows.pop();
  const last = rows[rows.length - 1];
  return {
    traces: rows.map((r) => decodeTrace(r.body)),
    nextCursor: more && last ? encodeCursor({ startUs: last.start_us, traceId: last.trace_id }) : null,
  };
}

/** Traces with a hop endpoint at this ip and/or port; with both, on the same endpoint. */
function addressCondition(ip: string | undefined, port: number | undefined): string | null {
  const side = (s: "client" | "server"): string | null =>
    ip !== undefined && port !== undefined
      ? `${s}_ip = @ip AND ${s}_port = @port`
      : ip !== undefined
        ? `${s}_ip = @ip`
        : port !== undefined
          ? `${s}_port = @port`
          : null;
  const c = side("client");
  if (!c) return null;
  // A UNION of two single-side queries, not an OR: each side then uses its own index.
  return `t.trace_id IN (SELECT trace_id FROM hops WHERE ${c} UNION SELECT trace_id FROM hops WHERE ${side("server")})`;
}
