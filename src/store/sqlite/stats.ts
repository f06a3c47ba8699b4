// How much is stored: what stats() reports, per kind (each kind's module
// measures its own bytes the way its retention counts them) and for the file.
import { statSync } from "node:fs";
import type { StoreStats } from "../store.js";
import { eventKindStats } from "./event-retention.js";
import type { PreparedStatements } from "./statements.js";
import { traceKindStats } from "./trace-kind.js";

/** Bytes in live pages: the file's size minus the pages retention freed and the file keeps for reuse. */
export function usedBytes(statements: PreparedStatements): number {
  const { db } = statements;
  const pageSize = db.pragma("page_size", { simple: true }) as number;
  const pages = db.pragma("page_count", { simple: true }) as number;
  const free = db.pragma("freelist_count", { simple: true }) as number;
  return (pages - free) * pageSize;
}

/** The database file and its WAL on disk; 0 for an in-memory database. */
export function fileBytes(path: string): number {
  if (path === ":memory:" || path === "") return 0;
  const size = (p: string): number => {
    try {
      return statSync(p).size;
    } catch {
      return 0; // no WAL yet (or any more, after a truncating checkpoint)
    }
  };
  return size(path) + size(`${path}-wal`);
}

export function storeStats(statements: PreparedStatements, path: string): StoreStats {
  const traces = traceKindStats(statements);
  const events = eventKindStats(statements);
  return {
    traces: traces.count,
    events: events.count,
    bytes: usedBytes(statements),
    fileBytes: fileBytes(path),
    kinds: { traces, events },
  };
}
