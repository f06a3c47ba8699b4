// Point reads of stored traces: by id, and which traces name a socket. The
// consumer asks these after a restart to tell what it already stored.
import type { Trace } from "../../model/mod.js";
import { decodeTrace } from "../plain.js";
import type { PreparedStatements } from "./statements.js";

const GET_TRACE = `SELECT body FROM traces WHERE trace_id = ?`;
const TRACE_EXISTS = `SELECT 1 FROM traces WHERE trace_id = ?`;
const TRACE_OF_SOCKET = `SELECT trace_id FROM hops WHERE client_socket = ? UNION ALL SELECT trace_id FROM hops WHERE server_socket = ? LIMIT 1`;

export function getTrace(statements: PreparedStatements, traceId: string): Trace | null {
  const row = statements.get(GET_TRACE).get(traceId) as { body: Buffer } | undefined;
  return row ? decodeTrace(row.body) : null;
}

export function traceExists(statements: PreparedStatements, traceId: string): boolean {
  return statements.get(TRACE_EXISTS).get(traceId) !== undefined;
}

/** The subset of `traceIds` already stored. */
export function existingTraceIds(statements: PreparedStatements, traceIds: readonly string[]): Set<string> {
  const found = new Set<string>();
  for (const id of traceIds) if (traceExists(statements, id)) found.add(id);
  return found;
}

/** For each socket id that a stored hop names, one trace id naming it. */
export function tracesOfSockets(statements: PreparedStatements, socketIds: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const id of socketIds) {
    if (!id || found.has(id)) continue;
    const row = statements.get(TRACE_OF_SOCKET).get(id, id) as { trace_id: string } | undefined;
    if (row) found.set(id, row.trace_id);
  }
  return found;
}
