// The store methods a restarting consumer relies on: replaying events since a
// time in order and in per-source batches, trace/socket lookups, and meta rows.
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { v1, TcpState, type ConnEventInit } from "../../src/model/mod.js";
import { SCHEMA_VERSION, migrations } from "../../src/store/schema.js";
import { SqliteTraceStore, type EventSource, type ReplayBatch } from "../../src/store/mod.js";
import { meshTrace, socketIdOf } from "./fixtures.js";
import { storeForEachTest } from "./workspace.js";

const S = TcpState;
const srcA: EventSource = { node: "a", bootId: "boot", agentStartUs: 1 };
const srcB: EventSource = { node: "b", bootId: "boot", agentStartUs: 2 };

function ev(seq: number, timeUs: number): ConnEventInit {
  return {
    seq,
    kind: 1,
    tsNs: BigInt(timeUs) * 1000n,
    timeUs,
    sock: `ffff${seq.toString(16)}`,
    local: { ip: "10.0.0.1", port: 1000 + seq },
    remote: { ip: "10.0.0.2", port: 80 },
    oldState: S.TCP_STATE_CLOSE,
    newState: S.TCP_STATE_SYN_SENT,
  };
}

async function collect(it: AsyncIterable<ReplayBatch>): Promise<ReplayBatch[]> {
  const out: ReplayBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

const ws = storeForEachTest("store-replay");

describe("replayEvents", () => {
  it("returns events at or after sinceUs in time order, batched per source run", async () => {
    // a: seq 1..4 at t=10,20,30,40; b: seq 1..2 at t=25,35
    await ws.store.putEvents(srcA, [ev(1, 10), ev(2, 20), ev(3, 30), ev(4, 40)]);
    await ws.store.putEvents(srcB, [ev(1, 25), ev(2, 35)]);
    const batches = await collect(ws.store.replayEvents({ sinceUs: 20 }));
    const flat = batches.map((b) => `${b.source.node}:${b.events.map((e) => e.seq).join(",")}`);
    expect(flat).toEqual(["a:2", "b:1", "a:3", "b:2", "a:4"]);
    expect(batches[0]!.source).toEqual(srcA);
    expect(batches[0]!.events[0]!.tsNs).toBe(20_000n); // exact kernel ns, from the row
  });

  it("cuts batches at batchSize and pages through more rows than one page holds", async () => {
    const events = Array.from({ length: 12_345 }, (_, i) => ev(i + 1, 1_000 + i));
    for (let i = 0; i < events.length; i += 1000) await ws.store.putEvents(srcA, events.slice(i, i + 1000));
    const batches = await collect(ws.store.replayEvents({ sinceUs: 1_000 + 100, batchSize: 700 }));
    const seqs = batches.flatMap((b) => b.events.map((e) => e.seq));
    expect(seqs.length).toBe(12_345 - 100);
    expect(seqs[0]).toBe(101);
    expect(seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1)).toBe(true);
    expect(Math.max(...batches.map((b) => b.events.length))).toBe(700);
  });

  it("tolerates writes between batches (no open cursor holds the connection)", async () => {
    await ws.store.putEvents(srcA, [ev(1, 10), ev(2, 20)]);
    await ws.store.putEvents(srcB, [ev(1, 15)]);
    let n = 0;
    for await (const b of ws.store.replayEvents({ sinceUs: 0 })) {
      n += b.events.length;
      await ws.store.putTraces([meshTrace({ id: `t${n}`, startUs: 1_000_000 + n, k: n })]);
    }
    expect(n).toBe(3);
    expect((await ws.store.stats()).traces).toBe(3);
  });
});

describe("trace and socket lookups", () => {
  it("existingTraceIds returns only stored ids; tracesOfSockets maps hop sockets to their trace", async () => {
    await ws.store.putTraces([meshTrace({ id: "t1", startUs: 5_000_000, k: 1 })]);
    expect(await ws.store.existingTraceIds(["t1", "nope"])).toEqual(new Set(["t1"]));
    const client = socketIdOf(1, 1, 5_000_000);
    const server = socketIdOf(1, 6, 5_000_000);
    const found = await ws.store.tracesOfSockets([client, server, "n1/ffff/1", ""]);
    expect(found.get(client)).toBe("t1");
    expect(found.get(server)).toBe("t1");
    expect(found.has("n1/ffff/1")).toBe(false);
  });
});

describe("meta rows", () => {
  it("set, replace and read back a value; survive reopening", async () => {
    expect(await ws.store.getMeta("k")).toBeNull();
    await ws.store.setMeta("k", "1");
    await ws.store.setMeta("k", "2");
    expect(await ws.store.getMeta("k")).toBe("2");
    await ws.store.close();
    ws.store = new SqliteTraceStore({ path: join(ws.dir, "tcptrail.db") });
    expect(await ws.store.getMeta("k")).toBe("2");
  });

  it("upgrades a version-1 database in place: its traces stay, its raw events go (JetStream keeps them)", async () => {
    await ws.store.close();
    const path = join(ws.dir, "v1.db");
    // A file as version 1 wrote it: its tables, one trace and one raw event in them.
    const db = new Database(path);
    db.pragma("auto_vacuum = INCREMENTAL");
    db.exec(migrations[0]!);
    db.pragma("user_version = 1");
    const old = meshTrace({ id: "from-v1", startUs: 5_000_000, k: 1 });
    db.prepare(
      `INSERT INTO traces (trace_id, start_us, end_us, last_us, outcome, origin_role, origin_pod, hop_count, explanation, body)
       VALUES (?, ?, ?, ?, ?, 0, '', 3, '', ?)`,
    ).run(old.traceId, old.startUs, old.endUs, old.endUs, old.outcome, v1.Trace.encode(old).finish());
    db.prepare("INSERT INTO streams (node, boot_id, agent_start_us) VALUES ('a', 'boot', 1)").run();
    db.prepare(
      `INSERT INTO events (stream_id, seq, time_us, ts_ns, kind, sock, old_state, new_state, local_ip, local_port, remote_ip, remote_port, body)
       VALUES (1, 1, 10, 10000, 1, 'ffff1', 7, 2, '10.0.0.1', 1001, '10.0.0.2', 80, x'')`,
    ).run();
    db.close();
    ws.store = new SqliteTraceStore({ path });
    await ws.store.setMeta("k", "v");
    expect(await ws.store.getMeta("k")).toBe("v");
    expect((await ws.store.getTrace("from-v1"))?.traceId).toBe("from-v1");
    expect((await ws.store.stats()).events).toBe(0);
    const check = new Database(path, { readonly: true });
    expect(check.pragma("user_version", { simple: true })).toBe(SCHEMA_VERSION);
    check.close();
  });
});
