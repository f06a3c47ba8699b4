// Retention and stats of the trace kind: what the store-wide retention.ts
// and stats.ts call for traces. Traces go oldest first, whole blocks at a
// time (a block is one row, so its space is freed at once), and hot rows when
// no block is left to drop.
import { openBlock, traceKey } from "../blocks/mod.js";
import type { KindStats } from "../store.js";
import { DEFAULT_MAX_AGE_MS, DEFAULT_MAX_BYTES } from "./options.js";
import type { PreparedStatements } from "./statements.js";

/**
 * Bytes a sealed trace's key takes beyond the block: a trace_keys row (6-byte
 * key, block id, record and cell headers) in a B-tree filled at random.
 * Measured with dbstat: 15.4 B/trace with 200k mesh traces sealed, 15.9 with 1M.
 */
export const KEY_BYTES_PER_TRACE = 16;
/** A hot row's bytes beyond its body: the trace id twice (row and unique index), the start index entry, five integers, headers. */
export const HOT_ROW_OVERHEAD_BYTES = 110;
/**
 * A block row's bytes beyond its body and filter: the summary columns,
 * headers, the last overflow page's slack. Measured with dbstat (1M mesh
 * traces, 240 blocks): pages 0.2 B/trace above body + filter, ~840 B a block.
 */
export const BLOCK_ROW_OVERHEAD_BYTES = 1024;

const BLOCK_TOTALS = `SELECT count(*) AS blocks, coalesce(sum(count), 0) AS traces,
         coalesce(sum(length(body) + length(filter)), 0) AS bytes, min(min_start_us) AS oldest FROM trace_blocks`;
const DEAD_COUNT = `SELECT count(*) FROM trace_dead`;
const HOT_TOTALS = `SELECT count(*) AS traces, coalesce(sum(length(body)), 0) AS bytes, min(start_us) AS oldest FROM hot_traces`;
const EXPIRED_BLOCKS = `SELECT id FROM trace_blocks WHERE max_last_us < ?`;
const OLDEST_BLOCK = `SELECT id FROM trace_blocks ORDER BY max_last_us, id LIMIT 1`;
const BLOCK_TO_DROP = `SELECT count, body FROM trace_blocks WHERE id = ?`;
const DEAD_OF = `SELECT count(*) FROM trace_dead WHERE block = ?`;
const DELETE_BLOCK = `DELETE FROM trace_blocks WHERE id = ?`;
const DELETE_BLOCK_KEYS = `DELETE FROM trace_keys WHERE block = ? AND key IN (SELECT value FROM json_each(?))`;
const DELETE_BLOCK_DEAD = `DELETE FROM trace_dead WHERE block = ?`;
const DELETE_HOT_BEFORE = `DELETE FROM hot_traces WHERE last_us < ?`;
const DELETE_OLDEST_HOT = `DELETE FROM hot_traces WHERE trace_id IN (SELECT trace_id FROM hot_traces ORDER BY last_us, trace_id LIMIT ?)`;

export interface TraceRetentionPolicy {
  /** Default DEFAULT_MAX_AGE_MS. */
  maxAgeMs?: number;
  /** Default DEFAULT_MAX_BYTES. */
  maxBytes?: number;
}

export function traceKindStats(statements: PreparedStatements): KindStats {
  const b = statements.get(BLOCK_TOTALS).get() as { blocks: number; traces: number; bytes: number; oldest: number | null };
  const dead = statements.get(DEAD_COUNT).pluck().get() as number;
  const h = statements.get(HOT_TOTALS).get() as { traces: number; bytes: number; oldest: number | null };
  const oldest = [b.oldest, h.oldest].filter((x): x is number => x !== null);
  return {
    count: b.traces - dead + h.traces,
    bytes:
      b.bytes + b.blocks * BLOCK_ROW_OVERHEAD_BYTES + b.traces * KEY_BYTES_PER_TRACE + h.bytes + h.traces * HOT_ROW_OVERHEAD_BYTES,
    oldestUs: oldest.length > 0 ? Math.min(...oldest) : null,
  };
}

/**
 * Delete a block with its keys and dead marks; returns the live traces it
 * held. The keys are found by decoding the block (trace_keys is ordered by
 * key, and an index by block would double it): a few ms per block, uncached
 * so that retention does not push the readers' blocks out of the cache.
 */
function dropBlock(statements: PreparedStatements, id: number): number {
  const row = statements.get(BLOCK_TO_DROP).get(id) as { count: number; body: Buffer } | undefined;
  if (!row) return 0;
  const keys = [...new Set(openBlock(row.body).map((t) => traceKey(t.traceId)))];
  const dead = statements.get(DEAD_OF).pluck().get(id) as number;
  statements.get(DELETE_BLOCK_KEYS).run(id, JSON.stringify(keys));
  statements.get(DELETE_BLOCK_DEAD).run(id);
  statements.get(DELETE_BLOCK).run(id);
  return row.count - dead;
}

/**
 * Delete traces whose last activity is older than maxAgeMs, then the oldest
 * (by last activity) until traceKindStats(...).bytes <= maxBytes: whole
 * blocks first, hot rows only when no block is left. One transaction per
 * block, so readers and the writer are never held up for long.
 */
export function traceRetention(statements: PreparedStatements, policy: TraceRetentionPolicy, nowMs = Date.now()): { deleted: number } {
  const { db } = statements;
  const maxAgeMs = policy.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
  const maxBytes = policy.maxBytes ?? DEFAULT_MAX_BYTES;
  const cutoffUs = (nowMs - maxAgeMs) * 1000;
  let deleted = 0;
  for (const id of statements.get(EXPIRED_BLOCKS).pluck().all(cutoffUs) as number[]) {
    deleted += db.transaction(() => dropBlock(statements, id))();
  }
  deleted += statements.get(DELETE_HOT_BEFORE).run(cutoffUs).changes;
  for (;;) {
    const { bytes, count } = traceKindStats(statements);
    if (bytes <= maxBytes || count === 0) break;
    const oldest = statements.get(OLDEST_BLOCK).pluck().get() as number | undefined;
    if (oldest !== undefined) {
      deleted += db.transaction(() => dropBlock(statements, oldest))();
      continue;
    }
    // Only hot rows left: drop the oldest share that should bring them under the limit (+1 % so it converges).
    const h = statements.get(HOT_TOTALS).get() as { traces: number };
    const n = Math.max(1, Math.ceil(h.traces * Math.min(1, (bytes - maxBytes) / bytes + 0.01)));
    const gone = statements.get(DELETE_OLDEST_HOT).run(n).changes;
    if (gone === 0) break;
    deleted += gone;
  }
  return { deleted };
}
