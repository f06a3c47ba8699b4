// Upgrading an old SQLite file in place. Replay, lookups and meta rows, which
// every TraceStore must do alike, are in ./conformance.ts.
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { v1 } from "../../src/model/mod.js";
import { SCHEMA_VERSION, migrations } from "../../src/store/schema.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { meshTrace } from "./fixtures.js";
import { storeForEachTest } from "./workspace.js";

const ws = storeForEachTest("store-replay");

describe("a SQLite file of an older schema", () => {
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
