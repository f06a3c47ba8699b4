// How much is stored: what stats() reports and what size-based retention
// measures against its limit.
import type { StoreStats } from "../store.js";
import type { PreparedStatements } from "./statements.js";

const COUNT_TRACES = `SELECT count(*) AS n FROM traces`;
const COUNT_EVENTS = `SELECT count(*) AS n FROM events`;

export function rowCounts(statements: PreparedStatements): { traces: number; events: number } {
  return {
    traces: (statements.get(COUNT_TRACES).get() as { n: number }).n,
    events: (statements.get(COUNT_EVENTS).get() as { n: number }).n,
  };
}

/** Bytes in live pages: the file's size minus the pages retention freed and the file keeps for reuse. */
export function usedBytes(statements: PreparedStatements): number {
  const { db } = statements;
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  const pages = db.pragma("page_count", { simple: true }) as number;
  const free = db.pragma("freelist_count", { simple: true }) as number;
  return (pages - free) * pageSize;
}

export function storeStats(statements: PreparedStatements): StoreStats {
  return { ...rowCounts(statements), bytes: usedBytes(statements) };
}
