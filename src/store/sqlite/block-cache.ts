// Sealed blocks as reads use them: decoded once, then kept in a small LRU per
// connection, because a page of traces, the next page and a `why` on one of
// them usually hit the same few newest blocks. A block never changes once
// written and its id is never reused (AUTOINCREMENT), so a cached block is
// never stale; which of its traces were superseded later (trace_dead) can
// change, so that is read from the table on every use, not cached.
import type { Trace } from "../../model/mod.js";
import { findInSealed, openBlock } from "../blocks/mod.js";
import type { PreparedStatements } from "./statements.js";

/**
 * Decoded blocks kept per connection. A decoded block of 4096 3-hop mesh
 * traces holds 12.9 MB of heap (measured with --expose-gc), so this bounds a
 * connection's cache near 100 MB; point reads do not fill it (findInSealed).
 */
export const DEFAULT_BLOCK_CACHE_BLOCKS = 8;

const BLOCK_BODY = `SELECT body FROM trace_blocks WHERE id = ?`;
const DEAD_OF_BLOCK = `SELECT idx FROM trace_dead WHERE block = ?`;

/** One decoded block, with the indexes lookups build on first need. */
export class OpenedBlock {
  readonly id: number;
  /** In block order: by start time, then trace id. */
  readonly traces: Trace[];
  #byId: Map<string, number> | null = null;
  #bySocket: Map<string, number[]> | null = null;

  constructor(id: number, traces: Trace[]) {
    this.id = id;
    this.traces = traces;
  }

  /** Position of the trace with this id, or -1. */
  indexOf(traceId: string): number {
    if (!this.#byId) {
      this.#byId = new Map();
      this.traces.forEach((t, i) => this.#byId!.set(t.traceId, i));
    }
    return this.#byId.get(traceId) ?? -1;
  }

  /** Positions of the traces with a hop endpoint of this socket id. */
  indexesOfSocket(socketId: string): readonly number[] {
    if (!this.#bySocket) {
      const m = new Map<string, number[]>();
      this.traces.forEach((t, i) => {
        for (const h of t.hops) {
          for (const id of [h.client?.socketId, h.server?.socketId]) {
            if (!id) continue;
            const list = m.get(id);
            if (!list) m.set(id, [i]);
            else if (list[list.length - 1] !== i) list.push(i);
          }
        }
      });
      this.#bySocket = m;
    }
    return this.#bySocket.get(socketId) ?? [];
  }
}

class BlockCache {
  // A Map iterates in insertion order: re-inserting on use makes the first key the least recently used.
  readonly #blocks = new Map<number, OpenedBlock>();
  readonly #capacity: number;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The block if it is cached, without reading it (and without counting as a use). */
  peek(id: number): OpenedBlock | null {
    return this.#blocks.get(id) ?? null;
  }

  get(statements: PreparedStatements, id: number): OpenedBlock | null {
    const hit = this.#blocks.get(id);
    if (hit) {
      this.#blocks.delete(id);
      this.#blocks.set(id, hit);
      return hit;
    }
    const body = statements.get(BLOCK_BODY).pluck().get(id) as Buffer | undefined;
    if (!body) return null;
    const block = new OpenedBlock(id, openBlock(body));
    this.#blocks.set(id, block);
    if (this.#blocks.size > this.#capacity) this.#blocks.delete(this.#blocks.keys().next().value!);
    return block;
  }
}

// One cache per connection, kept beside its statements so every read module
// reaches it through the PreparedStatements it already takes.
const caches = new WeakMap<PreparedStatements, BlockCache>();

function cacheOf(statements: PreparedStatements): BlockCache {
  let cache = caches.get(statements);
  if (!cache) {
    cache = new BlockCache(DEFAULT_BLOCK_CACHE_BLOCKS);
    caches.set(statements, cache);
  }
  return cache;
}

/** The decoded block `id`, from this connection's cache or the table; null when it is gone. */
export function readBlock(statements: PreparedStatements, id: number): OpenedBlock | null {
  return cacheOf(statements).get(statements, id);
}

/**
 * The trace with this id in block `id` and its position, or null. A point
 * read: from the cache when the block is there, else by building only that
 * trace from the block's body (findInSealed), which leaves the cache alone.
 */
export function findInBlockById(statements: PreparedStatements, id: number, traceId: string): { index: number; trace: Trace } | null {
  const cached = cacheOf(statements).peek(id);
  if (cached) {
    const index = cached.indexOf(traceId);
    return index >= 0 ? { index, trace: cached.traces[index]! } : null;
  }
  const body = statements.get(BLOCK_BODY).pluck().get(id) as Buffer | undefined;
  return body ? findInSealed(body, traceId) : null;
}

/** Positions in block `id` of traces superseded by a later write of the same id. */
export function deadIndexes(statements: PreparedStatements, id: number): Set<number> {
  const rows = statements.get(DEAD_OF_BLOCK).pluck().all(id) as number[];
  return new Set(rows);
}
