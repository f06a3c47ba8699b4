// The store with traces in sealed blocks answers exactly as it does with
// every trace hot: listings (every filter, every page), point reads,
// re-writes, socket lookups, retention and stats; and it seals when it should.
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { Outcome, Role, type Trace } from "../../../src/model/mod.js";
import { SqliteTraceStore, type TraceFilter } from "../../../src/store/mod.js";
import { tracesOfSocket } from "../../../src/store/sqlite/lookup.js";
import { openDatabase } from "../../../src/store/sqlite/open.js";
import { PreparedStatements } from "../../../src/store/sqlite/statements.js";
import { TraceWriter } from "../../../src/store/sqlite/write-traces.js";
import { meshTrace, socketIdOf } from "../fixtures.js";
import { storeForEachTest } from "../workspace.js";
import { asObject } from "./random-traces.js";
import { traceToJson } from "../../../src/query/mod.js";
import { SCENARIOS } from "../../trace/helpers/scenarios.js";
import { stitch } from "../../trace/helpers/stitch.js";

const ws = storeForEachTest("sealed");
const ids = (traces: { traceId: string }[]) => traces.map((t) => t.traceId);

/** Reopen the test's store with these seal settings. */
async function reopen(o: { sealTraces?: number; sealAfterMs?: number }, name = "tcptrail.db"): Promise<SqliteTraceStore> {
  await ws.store.close();
  ws.store = new SqliteTraceStore({ path: join(ws.dir, name), ...o });
  return ws.store;
}

function tableCounts(path: string): { hot: number; blocks: number; keys: number; dead: number } {
  const db = new Database(path, { readonly: true });
  try {
    const n = (t: string) => (db.prepare(`SELECT count(*) AS n FROM ${t}`).get() as { n: number }).n;
    return { hot: n("hot_traces"), blocks: n("trace_blocks"), keys: n("trace_keys"), dead: n("trace_dead") };
  } finally {
    db.close();
  }
}

const PODS = ["web", "api", "db", "cron"];
const OUTCOMES = [Outcome.OUTCOME_RESET_BY_SERVER, Outcome.OUTCOME_COMPLETED, Outcome.OUTCOME_REFUSED, Outcome.OUTCOME_OPEN];

/** 60 traces over 4 pods, 4 outcomes, both origin roles, some open (end 0), threes sharing a start. */
function corpus(): Trace[] {
  return Array.from({ length: 60 }, (_, k) => {
    // Threes share a start (the id orders them), and the later written of three has
    // the smaller id: a three split across blocks starts, in listing order, in the older block.
    const t = meshTrace({
      id: `c${String(k - (k % 3) + (2 - (k % 3))).padStart(3, "0")}`,
      k,
      startUs: 1_000_000 + Math.floor(k / 3) * 10_000,
      podA: PODS[k % 4],
      podB: PODS[(k + 1) % 4],
      outcome: OUTCOMES[k % 4],
      originRole: k % 3 === 0 ? Role.ROLE_SIDECAR : Role.ROLE_APP,
    });
    if (t.outcome === Outcome.OUTCOME_OPEN) t.endUs = 0;
    return t;
  });
}

const FILTERS: TraceFilter[] = [
  {},
  // Page boundaries at every position, ties across blocks among them.
  ...[1, 2, 3, 4, 5, 6, 7].map((limit) => ({ limit })),
  { since: 1_200_000 },
  { since: 1_200_000, until: 1_250_000 },
  { until: 1_010_000 },
  { pod: "api" },
  { pod: "db", outcome: Outcome.OUTCOME_COMPLETED },
  { ip: "127.0.0.6" },
  { port: 40007 },
  { ip: "10.88.0.2", port: 40010, limit: 3 },
  { ip: "127.0.0.6", port: 40002 },
  { outcome: [Outcome.OUTCOME_REFUSED, Outcome.OUTCOME_OPEN], limit: 4 },
  { role: Role.ROLE_SIDECAR, limit: 5 },
  { role: Role.ROLE_SIDECAR, pod: "web", since: 1_100_000 },
];

/** Every page of a filter, as trace ids. */
async function allPages(store: SqliteTraceStore, f: TraceFilter): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const p = await store.listTraces({ ...f, cursor });
    pages.push(ids(p.traces));
    cursor = p.nextCursor ?? undefined;
  } while (cursor && pages.length < 100);
  return pages;
}

describe("a store whose traces are sealed", () => {
  it("lists every filter and every page exactly as the same store with every trace hot", async () => {
    const traces = corpus();
    const hot = ws.store;
    await hot.putTraces(traces);
    // Blocks of 4 to 7 traces (batches of 5 overshoot sealTraces 4), and a few left hot.
    const sealed = new SqliteTraceStore({ path: join(ws.dir, "sealed.db"), sealTraces: 4 });
    try {
      for (let i = 0; i < traces.length; i += 5) await sealed.putTraces(traces.slice(i, i + 5).reverse());
      const counts = tableCounts(sealed.path);
      expect(counts.blocks).toBeGreaterThan(5);
      expect(counts.hot).toBeLessThan(4);
      for (const f of FILTERS) expect(await allPages(sealed, f), JSON.stringify(f)).toEqual(await allPages(hot, f));
    } finally {
      await sealed.close();
    }
  });

  it("reads back a sealed trace whole, by id, and says which ids it holds", async () => {
    const store = await reopen({ sealTraces: 3 });
    const traces = corpus().slice(0, 9);
    await store.putTraces(traces);
    // One batch of 9 with sealTraces 3: three blocks of 3, all in the same write.
    expect(tableCounts(store.path)).toMatchObject({ hot: 0, blocks: 3, keys: 9 });
    for (const t of traces) {
      const got = await store.getTrace(t.traceId);
      expect(got && asObject(got)).toEqual(asObject(t));
    }
    expect(await store.getTrace("c999")).toBeNull();
    expect([...(await store.existingTraceIds(["c002", "nope", "c006"]))].sort()).toEqual(["c002", "c006"]);
    expect((await store.stats()).kinds.traces).toMatchObject({ count: 9, oldestUs: 1_000_000 });
  });

  it("answers existingTraceIds for many ids of one block by one decode, as it answers a few: live copies only", async () => {
    const store = await reopen({ sealTraces: 1000 });
    const traces = corpus();
    await store.putTraces(traces);
    expect(await store.seal()).toBe(60);
    // One trace written again: its sealed copy is dead, the new one hot; another sealed copy lives on.
    const again = meshTrace({ id: traces[5]!.traceId, k: 5, startUs: traces[5]!.startUs, outcome: Outcome.OUTCOME_COMPLETED });
    await store.putTraces([again]);
    const all = ids(traces);
    const asked = [...all, "nope-1", "nope-2"];
    // Many hits in the block (above BULK_BLOCK_READ): the whole block is read once.
    expect([...(await store.existingTraceIds(asked))].sort()).toEqual([...all].sort());
    // A few hits: point reads, the same answer.
    expect([...(await store.existingTraceIds([all[0]!, all[5]!, "nope-1"]))].sort()).toEqual([all[0]!, all[5]!].sort());
    // The rewritten trace sealed again: its old copy stays dead, the id still exists once.
    expect(await store.seal()).toBe(1);
    expect((await store.existingTraceIds(asked)).size).toBe(all.length);
    expect((await store.getTrace(all[5]!))?.outcome).toBe(Outcome.OUTCOME_COMPLETED);
  });

  it("keeps each hop's step times through the hot table and a sealed block, and the JSON gives them", async () => {
    const store = await reopen({ sealTraces: 1000 });
    const traces = stitch(SCENARIOS["app-abort-fin"]!()).traces;
    expect(traces).toHaveLength(1);
    const t = traces[0]!;
    const steps = (x: Trace) => x.hops.map((h) => [Number(h.openedUs), Number(h.firstFinUs), Number(h.resetUs)]);
    // app b's RST on hop 3, sidecar b's FIN on hop 2, sidecar a's RST on hop 1: all times known.
    expect(steps(t).map((s) => s.map((x) => x > 0))).toEqual([
      [true, false, true],
      [true, true, false],
      [true, false, true],
    ]);
    await store.putTraces([t]);
    const hot = await store.getTrace(t.traceId);
    expect(steps(hot!)).toEqual(steps(t));
    expect(await store.seal()).toBe(1);
    expect(tableCounts(store.path)).toMatchObject({ hot: 0, blocks: 1 });
    const sealed = await store.getTrace(t.traceId);
    expect(steps(sealed!)).toEqual(steps(t));
    expect(traceToJson(sealed!).hops.map((h) => [h.opened_us, h.first_fin_us, h.reset_us])).toEqual(steps(t).map((s) => s.map((x) => x || null)));
    expect(traceToJson(sealed!)).toEqual(traceToJson(hot!));
  });

  it("replaces a sealed trace written again: one copy, the new one, before and after the next seal", async () => {
    const store = await reopen({ sealTraces: 1000 });
    await store.putTraces([meshTrace({ id: "t1", k: 1, startUs: 5_000_000 }), meshTrace({ id: "t2", k: 2, startUs: 6_000_000 })]);
    expect(await store.seal()).toBe(2);
    const again = meshTrace({ id: "t1", k: 1, startUs: 5_000_000, outcome: Outcome.OUTCOME_COMPLETED });
    again.hops.pop();
    expect(await store.putTraces([again])).toEqual({ written: 0, duplicates: 1 });
    const statements = new PreparedStatements(openDatabase(store.path, 1000));
    const check = async () => {
      expect((await store.getTrace("t1"))?.outcome).toBe(Outcome.OUTCOME_COMPLETED);
      // Sockets of the dropped hop name no trace any more; those of a kept hop name the new copy.
      expect(tracesOfSocket(statements, socketIdOf(1, 6, 5_000_000))).toEqual([]);
      expect(tracesOfSocket(statements, socketIdOf(1, 1, 5_000_000)).map((t) => t.outcome)).toEqual([Outcome.OUTCOME_COMPLETED]);
      expect(await store.tracesOfSockets([socketIdOf(1, 5, 5_000_000)])).toEqual(new Map());
      expect(ids((await store.listTraces()).traces)).toEqual(["t2", "t1"]);
      // The old copy's third hop is gone with it.
      expect(ids((await store.listTraces({ ip: "127.0.0.6" })).traces)).toEqual(["t2"]);
      expect((await store.stats()).traces).toBe(2);
    };
    await check();
    expect(tableCounts(store.path)).toMatchObject({ hot: 1, blocks: 1, dead: 1 });
    await store.seal();
    await check();
    expect(tableCounts(store.path)).toMatchObject({ hot: 0, blocks: 2, dead: 1 });
    statements.db.close();
  });

  it("seals what waited sealAfterMs at the next write (by the writer's clock)", () => {
    const statements = new PreparedStatements(openDatabase(join(ws.dir, "clock.db"), 1000));
    try {
      let nowMs = 1_000;
      const writer = new TraceWriter(statements, { sealTraces: 1000, sealAfterMs: 500, now: () => nowMs });
      writer.putTraces([meshTrace({ id: "a", k: 1, startUs: 1_000_000 })]);
      nowMs += 499;
      writer.putTraces([meshTrace({ id: "b", k: 2, startUs: 2_000_000 })]);
      expect(tableCounts(join(ws.dir, "clock.db"))).toMatchObject({ hot: 2, blocks: 0 });
      // The clock starts when the table stops being empty: "a" has now waited 500 ms.
      nowMs += 1;
      writer.putTraces([meshTrace({ id: "c", k: 3, startUs: 3_000_000 })]);
      expect(tableCounts(join(ws.dir, "clock.db"))).toMatchObject({ hot: 0, blocks: 1, keys: 3 });
      // After a seal the clock waits for the next trace.
      nowMs += 10_000;
      writer.putTraces([meshTrace({ id: "d", k: 4, startUs: 4_000_000 })]);
      expect(tableCounts(join(ws.dir, "clock.db"))).toMatchObject({ hot: 1, blocks: 1 });
    } finally {
      statements.db.close();
    }
  });

  it("seals everything hot on close, and reads it back after reopening", async () => {
    const store = await reopen({ sealTraces: 1000 });
    await store.putTraces([meshTrace({ id: "a", k: 1, startUs: 1_000_000 }), meshTrace({ id: "b", k: 2, startUs: 2_000_000 })]);
    expect(tableCounts(store.path)).toMatchObject({ hot: 2, blocks: 0 });
    const path = store.path;
    await store.close();
    expect(tableCounts(path)).toMatchObject({ hot: 0, blocks: 1, keys: 2 });
    const reopened = (ws.store = new SqliteTraceStore({ path }));
    expect(ids((await reopened.listTraces()).traces)).toEqual(["b", "a"]);
  });

  it("finds the traces of a socket in hot rows and in blocks, and one owner per socket", async () => {
    const store = await reopen({ sealTraces: 1000 });
    await store.putTraces([meshTrace({ id: "old", k: 1, startUs: 1_000_000 }), meshTrace({ id: "other", k: 2, startUs: 1_500_000 })]);
    await store.seal();
    // A later trace naming one of old's sockets again (a pooled upstream), still hot.
    const later = meshTrace({ id: "later", k: 3, startUs: 2_000_000 });
    later.hops[1]!.server!.socketId = socketIdOf(1, 4, 1_000_000);
    await store.putTraces([later]);
    const statements = new PreparedStatements(openDatabase(store.path, 1000));
    try {
      const shared = socketIdOf(1, 4, 1_000_000);
      expect(ids(tracesOfSocket(statements, shared))).toEqual(["later", "old"]);
      expect(ids(tracesOfSocket(statements, socketIdOf(2, 1, 1_500_000)))).toEqual(["other"]);
      expect(tracesOfSocket(statements, "n1/ffff/1")).toEqual([]);
      const owners = await store.tracesOfSockets([socketIdOf(2, 6, 1_500_000), socketIdOf(3, 1, 2_000_000), "n1/ffff/1"]);
      expect(owners).toEqual(new Map([[socketIdOf(2, 6, 1_500_000), "other"], [socketIdOf(3, 1, 2_000_000), "later"]]));
    } finally {
      statements.db.close();
    }
  });

  it("drops whole blocks by age with their keys, and the oldest blocks by size", async () => {
    const store = await reopen({ sealTraces: 10 });
    const now = Date.now() * 1000;
    const at = (k: number, startUs: number) => meshTrace({ id: `r${String(k).padStart(3, "0")}`, k, startUs });
    // 30 traces 3 h old, 60 recent, in blocks of 10.
    for (let b = 0; b < 9; b++) {
      await store.putTraces(Array.from({ length: 10 }, (_, i) => at(b * 10 + i, (b < 3 ? now - 3 * 3600e6 : now - 60e6) + (b * 10 + i) * 1000)));
    }
    expect(tableCounts(store.path)).toMatchObject({ hot: 0, blocks: 9, keys: 90 });
    const byAge = await store.retention({ maxAgeMs: 3600e3 });
    expect(byAge.deletedTraces).toBe(30);
    expect(tableCounts(store.path)).toMatchObject({ blocks: 6, keys: 60 });
    expect(await store.getTrace("r029")).toBeNull();
    expect(await store.getTrace("r030")).not.toBeNull();
    const before = (await store.stats()).kinds.traces;
    const bySize = await store.retention({ maxBytes: Math.floor(before.bytes / 2) });
    const after = (await store.stats()).kinds.traces;
    expect(after.bytes).toBeLessThanOrEqual(before.bytes / 2);
    expect(bySize.deletedTraces % 10).toBe(0);
    expect(after.count).toBe(60 - bySize.deletedTraces);
    // The oldest went: what is left is the newest, contiguous.
    const left = ids((await store.listTraces({ limit: 1000 })).traces);
    expect(left).toEqual(Array.from({ length: after.count }, (_, i) => `r${String(89 - i).padStart(3, "0")}`));
    expect(tableCounts(store.path).keys).toBe(after.count);
  });
});
