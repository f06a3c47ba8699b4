// Point reads of stored traces, in the hot table first and then in sealed
// blocks: by id (the key index names the blocks that may hold it; decoding
// confirms), and by socket id (Bloom filters name the blocks that may hold
// it, newest first). A sealed trace superseded by a later write of its id is
// never returned: the later copy is.
import type { Trace } from "../../model/mod.js";
import { bloomKey, bloomMayHave, traceKey } from "../blocks/mod.js";
import { decodeTrace } from "../plain.js";
import { deadIndexes, findInBlockById, readBlock } from "./block-cache.js";
import type { PreparedStatements } from "./statements.js";

const GET_HOT = `SELECT body FROM hot_traces WHERE trace_id = ?`;
const HOT_OF_IDS = `SELECT trace_id FROM hot_traces WHERE trace_id IN (SELECT value FROM json_each(?))`;
const BLOCKS_OF_KEY = `SELECT block FROM trace_keys WHERE key = ? ORDER BY block DESC`;
const BLOCKS_OF_KEYS = `SELECT key, block FROM trace_keys WHERE key IN (SELECT value FROM json_each(?))`;
const ALL_HOT = `SELECT body FROM hot_traces`;
const BLOCKS_NEWEST_FIRST = `SELECT id FROM trace_blocks ORDER BY id DESC`;
const BLOCK_FILTER = `SELECT filter FROM trace_blocks WHERE id = ?`;

/** Key hits in one block from which existingTraceIds decodes the block once (cached) instead of a point read per id. */
export const BULK_BLOCK_READ = 8;

/** Where a sealed trace lives, and the trace. */
export interface SealedPlace {
  block: number;
  index: number;
  trace: Trace;
}

/** The live sealed copy of `traceId` (not superseded), or null. `blocks`: the candidates, when the caller has read the keys already. */
export function findSealed(statements: PreparedStatements, traceId: string, blocks?: readonly number[]): SealedPlace | null {
  const candidates = blocks ?? (statements.get(BLOCKS_OF_KEY).pluck().all(traceKey(traceId)) as number[]);
  for (const id of candidates) {
    const found = findInBlockById(statements, id, traceId);
    if (found && !deadIndexes(statements, id).has(found.index)) return { block: id, ...found };
  }
  return null;
}

export function getTrace(statements: PreparedStatements, traceId: string): Trace | null {
  const row = statements.get(GET_HOT).get(traceId) as { body: Buffer } | undefined;
  if (row) return decodeTrace(row.body);
  return findSealed(statements, traceId)?.trace ?? null;
}

/**
 * The subset of `traceIds` already stored. The consumer asks this for every
 * batch it writes, so it is two queries per batch, not per id; a block is
 * decoded only for a key hit (a re-delivery, or a 48-bit collision).
 */
export function existingTraceIds(statements: PreparedStatements, traceIds: readonly string[]): Set<string> {
  const found = new Set<string>();
  if (traceIds.length === 0) return found;
  for (const id of statements.get(HOT_OF_IDS).pluck().all(JSON.stringify(traceIds)) as string[]) found.add(id);
  const rest = traceIds.filter((id) => !found.has(id));
  if (rest.length === 0) return found;
  const byKey = new Map<number, string[]>();
  for (const id of rest) {
    const k = traceKey(id);
    const ids = byKey.get(k);
    if (ids) ids.push(id);
    else byKey.set(k, [id]);
  }
  const blocksOfKey = new Map<number, number[]>();
  for (const r of statements.get(BLOCKS_OF_KEYS).all(JSON.stringify([...byKey.keys()])) as { key: number; block: number }[]) {
    const list = blocksOfKey.get(r.key);
    if (list) list.push(r.block);
    else blocksOfKey.set(r.key, [r.block]);
  }
  // Ids by the blocks that may hold them. A few hits in a block are point
  // reads (each builds only its trace and leaves the cache alone); many are
  // one decode of the whole block through the cache: checking a day's ids one
  // point read each decoded the same block per id (the scale bench's 100k
  // stored ids took over ten minutes).
  const idsOfBlock = new Map<number, string[]>();
  for (const [k, blocks] of blocksOfKey) {
    for (const id of byKey.get(k) ?? []) {
      for (const b of blocks) {
        const list = idsOfBlock.get(b);
        if (list) list.push(id);
        else idsOfBlock.set(b, [id]);
      }
    }
  }
  for (const [blockId, ids] of [...idsOfBlock].sort((a, b) => b[0] - a[0])) {
    const pending = ids.filter((id) => !found.has(id));
    if (pending.length === 0) continue;
    const dead = deadIndexes(statements, blockId);
    if (pending.length < BULK_BLOCK_READ) {
      for (const id of pending) {
        const hit = findInBlockById(statements, blockId, id);
        if (hit && !dead.has(hit.index)) found.add(id);
      }
      continue;
    }
    const block = readBlock(statements, blockId);
    if (!block) continue;
    for (const id of pending) {
      const index = block.indexOf(id);
      if (index >= 0 && !dead.has(index)) found.add(id);
    }
  }
  return found;
}

/**
 * Every stored trace with a hop endpoint of one of `socketIds`, visiting the
 * hot table and then the blocks newest first; `onTrace` returns false to stop
 * early. Sockets asked about are usually recent, so early stops are early.
 */
function visitTracesOfSockets(
  statements: PreparedStatements,
  socketIds: ReadonlySet<string>,
  onTrace: (t: Trace, socketId: string) => boolean,
): void {
  const visit = (t: Trace): boolean => {
    for (const h of t.hops) {
      for (const id of [h.client?.socketId, h.server?.socketId]) {
        if (id && socketIds.has(id) && !onTrace(t, id)) return false;
      }
    }
    return true;
  };
  for (const body of statements.get(ALL_HOT).pluck().all() as Buffer[]) if (!visit(decodeTrace(body))) return;
  const keys = [...socketIds].map((id) => [id, bloomKey.sock(id)] as const);
  for (const blockId of statements.get(BLOCKS_NEWEST_FIRST).pluck().all() as number[]) {
    const filter = statements.get(BLOCK_FILTER).pluck().get(blockId) as Buffer | undefined;
    const maybe = filter ? keys.filter(([, k]) => bloomMayHave(filter, k)).map(([id]) => id) : [...socketIds];
    if (maybe.length === 0) continue;
    const block = readBlock(statements, blockId);
    if (!block) continue;
    const dead = deadIndexes(statements, blockId);
    const seen = new Set<number>();
    for (const id of maybe) {
      for (const i of block.indexesOfSocket(id)) {
        if (dead.has(i) || seen.has(i)) continue;
        seen.add(i);
        if (!visit(block.traces[i]!)) return;
      }
    }
  }
}

/** For each socket id that a stored hop names, one trace id naming it (the newest write). */
export function tracesOfSockets(statements: PreparedStatements, socketIds: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  const wanted = new Set(socketIds.filter(Boolean));
  if (wanted.size === 0) return found;
  visitTracesOfSockets(statements, wanted, (t, id) => {
    if (!found.has(id)) found.set(id, t.traceId);
    return found.size < wanted.size;
  });
  return found;
}

/** Every stored trace with a hop endpoint of this socket id, newest start first: a socket's timeline shows them. */
export function tracesOfSocket(statements: PreparedStatements, socketId: string): Trace[] {
  const byId = new Map<string, Trace>();
  if (!socketId) return [];
  visitTracesOfSockets(statements, new Set([socketId]), (t) => {
    if (!byId.has(t.traceId)) byId.set(t.traceId, t);
    return true;
  });
  return [...byId.values()].sort((a, b) => b.startUs - a.startUs || (a.traceId < b.traceId ? 1 : -1));
}
