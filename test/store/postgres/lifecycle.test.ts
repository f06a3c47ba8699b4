// PostgreSQL-only store behaviour: the schema's version row (created once,
// a newer one refused) and a URL that names no PostgreSQL.
import pg from "pg";
import { describe, expect, it } from "vitest";
import { PG_SCHEMA_VERSION, PostgresTraceStore, isSchemaTooNewError } from "../../../src/store/mod.js";
import { isInvalidArgumentError } from "../../../src/errors/mod.js";
import { meshTrace } from "../fixtures.js";
import { traceStoreForEachTest } from "../workspace.js";
import { postgresForFile } from "./harness.js";

const db = postgresForFile("pg-lifecycle");
const ws = traceStoreForEachTest(db.harness);

describe("PostgresTraceStore lifecycle", () => {
  it("records its schema version once, keeps data across opens, and refuses a newer schema", async () => {
    await ws.store.putTraces([meshTrace({ id: "persist", startUs: 1 })]);
    // Two stores opening the same database at once: the migration runs once (advisory lock).
    const [a, b] = await Promise.all([PostgresTraceStore.open({ url: ws.storage }), PostgresTraceStore.open({ url: ws.storage })]);
    expect((await a.getTrace("persist"))?.traceId).toBe("persist");
    await Promise.all([a.close(), b.close()]);
    const c = new pg.Client({ connectionString: ws.storage });
    await c.connect();
    try {
      expect((await c.query("SELECT version FROM tcptrail_schema")).rows).toEqual([{ version: PG_SCHEMA_VERSION }]);
      await c.query("UPDATE tcptrail_schema SET version = 99");
    } finally {
      await c.end();
    }
    const err = await PostgresTraceStore.open({ url: ws.storage }).catch((e: unknown) => e);
    expect(isSchemaTooNewError(err)).toBe(true);
    expect(err).toMatchObject({ found: 99, supported: PG_SCHEMA_VERSION });
  });

  it("refuses a URL that is not postgres:// as an invalid argument, without echoing its password", async () => {
    const err = await PostgresTraceStore.open({ url: "mysql://root:hunter2@h/db" }).catch((e: unknown) => e);
    expect(isInvalidArgumentError(err)).toBe(true);
    expect(String((err as Error).message)).not.toContain("hunter2");
  });
});
