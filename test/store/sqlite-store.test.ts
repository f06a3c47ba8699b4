// SQLite-only store behaviour: its file (reopening it, a newer schema in it,
// the directory it creates). What every TraceStore must do is in
// ./conformance.ts, run against SQLite by ./sqlite-conformance.test.ts.
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { SqliteTraceStore, isSchemaTooNewError } from "../../src/store/mod.js";
import { meshTrace } from "./fixtures.js";
import { storeForEachTest } from "./workspace.js";

const ws = storeForEachTest("store");

describe("SqliteTraceStore lifecycle", () => {
  it("reopens its own file and refuses a newer schema", async () => {
    const path = join(ws.dir, "tcptrail.db");
    await ws.store.putTraces([meshTrace({ id: "persist", startUs: 1 })]);
    await ws.store.close();
    ws.store = new SqliteTraceStore({ path });
    expect((await ws.store.getTrace("persist"))?.traceId).toBe("persist");
    await ws.store.close();
    const raw = new Database(path);
    raw.pragma("user_version = 99");
    raw.close();
    let err: unknown;
    try {
      ws.store = new SqliteTraceStore({ path });
    } catch (e) {
      err = e;
    }
    expect(isSchemaTooNewError(err)).toBe(true);
    ws.store = new SqliteTraceStore({ path: ":memory:" });
  });

  it("creates the state directory", async () => {
    const nested = new SqliteTraceStore({ path: join(ws.dir, "a", "b", "t.db") });
    expect((await nested.stats()).traces).toBe(0);
    await nested.close();
  });
});
