// Point reads of stored traces: by id, which ids exist, and which traces
// name a socket (through the trace_endpoints socket index).
import type { Trace } from "../../model/mod.js";
import { decodeTrace } from "../plain.js";
import type { PgConnection } from "./connection.js";

const GET = `SELECT body FROM traces WHERE trace_id = $1`;
const EXISTING = `SELECT trace_id FROM traces WHERE trace_id = ANY($1::text[])`;
// The newest write naming each socket, as the SQLite store answers.
const OF_SOCKETS = `SELECT DISTINCT ON (e.socket_id) e.socket_id, t.trace_id
    FROM trace_endpoints e JOIN traces t ON t.trace_id = e.trace_id
   WHERE e.socket_id = ANY($1::text[]) AND e.socket_id <> ''
   ORDER BY e.socket_id, t.written DESC`;
const OF_SOCKET = `SELECT DISTINCT t.trace_id, t.start_us, t.body
    FROM trace_endpoints e JOIN traces t ON t.trace_id = e.trace_id
   WHERE e.socket_id = $1 ORDER BY t.start_us DESC, t.trace_id DESC`;

export async function getTrace(db: PgConnection, traceId: string): Promise<Trace | null> {
  const row = (await db.query<{ body: Buffer }>(GET, [traceId]))[0];
  return row ? decodeTrace(row.body) : null;
}

export async function existingTraceIds(db: PgConnection, traceIds: readonly string[]): Promise<Set<string>> {
  if (traceIds.length === 0) return new Set();
  return new Set((await db.query<{ trace_id: string }>(EXISTING, [traceIds])).map((r) => r.trace_id));
}

export async function tracesOfSockets(db: PgConnection, socketIds: readonly string[]): Promise<Map<string, string>> {
  const wanted = [...new Set(socketIds.filter(Boolean))];
  if (wanted.length === 0) return new Map();
  const rows = await db.query<{ socket_id: string; trace_id: string }>(OF_SOCKETS, [wanted]);
  return new Map(rows.map((r) => [r.socket_id, r.trace_id]));
}

/** Every stored trace with a hop endpoint of this socket id, newest start first. */
export async function tracesOfSocket(db: PgConnection, socketId: string): Promise<Trace[]> {
  if (!socketId) return [];
  return (await db.query<{ body: Buffer }>(OF_SOCKET, [socketId])).map((r) => decodeTrace(r.body));
}
