// StoreHealth on its own: failures classified by SQLite's and errno's codes
// (from real errors where the machine can make them), one log line and one
// notification per change of state however many retries fail, the metrics
// following, and a degraded store staying degraded until every failing
// kind of write has succeeded again.
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { Writable } from "node:stream";
import Database from "better-sqlite3";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { StoreHealth, storeFaultKind, type StoreHealthChange } from "../../src/consumer/mod.js";
import { StoreClosedError } from "../../src/store/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";

let dir: TempDir | undefined;
afterEach(async () => {
  await dir?.remove();
  dir = undefined;
});

function capture() {
  const lines: { level: number; msg: string }[] = [];
  const logger = pino(
    { level: "info" },
    new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const l of chunk.toString().split("\n").filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string });
        done();
      },
    }),
  );
  return { logger, lines };
}

const errnoError = (code: string) => Object.assign(new Error(code), { code });

describe("storeFaultKind", () => {
  it("reads SQLite's result codes, extended ones included, and errno names", async () => {
    expect(storeFaultKind(errnoError("SQLITE_FULL"))).toBe("full");
    expect(storeFaultKind(errnoError("ENOSPC"))).toBe("full");
    expect(storeFaultKind(errnoError("SQLITE_BUSY_SNAPSHOT"))).toBe("locked");
    expect(storeFaultKind(errnoError("SQLITE_IOERR_WRITE"))).toBe("io");
    expect(storeFaultKind(errnoError("SQLITE_READONLY_DBMOVED"))).toBe("readonly");
    expect(storeFaultKind(new StoreClosedError("closed"))).toBe("closed");
    expect(storeFaultKind(new Error("no code"))).toBe("other");
    expect(storeFaultKind("a string")).toBe("other");
  });

  it("classifies a real write to a read-only database as readonly", async () => {
    dir = await makeTempDir("store-health");
    const path = join(dir.path, "ro.db");
    new Database(path).exec("CREATE TABLE t (x)").close();
    const ro = new Database(path, { readonly: true });
    try {
      let err: unknown;
      try {
        ro.exec("INSERT INTO t VALUES (1)");
      } catch (e) {
        err = e;
      }
      expect(storeFaultKind(err)).toBe("readonly");
    } finally {
      ro.close();
      chmodSync(path, 0o600);
    }
  });

  it("classifies a real second writer holding the lock as locked", async () => {
    dir = await makeTempDir("store-health");
    const path = join(dir.path, "locked.db");
    const a = new Database(path);
    const b = new Database(path, { timeout: 0 });
    try {
      a.exec("CREATE TABLE t (x)");
      a.exec("BEGIN IMMEDIATE");
      let err: unknown;
      try {
        b.exec("INSERT INTO t VALUES (1)");
      } catch (e) {
        err = e;
      }
      expect(storeFaultKind(err)).toBe("locked");
      a.exec("ROLLBACK");
    } finally {
      b.close();
      a.close();
    }
  });
});

describe("StoreHealth", () => {
  it("logs and notifies once per change of state, counts every failure, and recovers only when every failing write succeeded", async () => {
    const { logger, lines } = capture();
    const registry = new Registry();
    const health = new StoreHealth({ logger, metrics: { registry } });
    const changes: StoreHealthChange[] = [];
    health.onChange((c) => changes.push(c));
    const errorsOf = async (kind: string) =>
      Number((await registry.getSingleMetricAsString("tcptrail_store_write_errors_total")).match(new RegExp(`kind="${kind}"} (\\d+)`))?.[1]);
    const healthy = async () => Number((await registry.getSingleMetricAsString("tcptrail_store_healthy")).trim().split(" ").at(-1));

    expect(health.state()).toEqual({ status: "ok" });
    expect(await healthy()).toBe(1);
    expect(await errorsOf("full")).toBe(0);

    for (let i = 0; i < 25; i++) health.failed("events", errnoError("SQLITE_FULL"));
    health.failed("traces", errnoError("SQLITE_FULL"));
    const s = health.state();
    expect(s.status).toBe("degraded");
    expect(s.kind).toBe("full");
    expect(s.reason).toBe("traces: SQLITE_FULL (SQLITE_FULL)");
    expect(s.failing).toEqual(["events", "traces"]);
    expect(await errorsOf("full")).toBe(26);
    expect(await healthy()).toBe(0);

    // Events get through but traces still fail: still degraded, still one line.
    health.succeeded("events");
    expect(health.state().status).toBe("degraded");
    expect(health.state().failing).toEqual(["traces"]);
    health.succeeded("traces");
    health.succeeded("traces");
    expect(health.state()).toEqual({ status: "ok" });
    expect(await healthy()).toBe(1);

    expect(lines.filter((l) => /degraded/.test(l.msg))).toHaveLength(1);
    expect(lines.filter((l) => /recovered/.test(l.msg))).toHaveLength(1);
    expect(changes.map((c) => c.state.status)).toEqual(["degraded", "ok"]);
    expect(changes[1]!.failures).toBe(26);
  });

  it("a listener that throws does not stop the others", () => {
    const { logger, lines } = capture();
    const health = new StoreHealth({ logger });
    const seen: string[] = [];
    health.onChange(() => {
      throw new Error("boom");
    });
    health.onChange((c) => seen.push(c.state.status));
    health.failed("checkpoint", errnoError("SQLITE_IOERR"));
    expect(seen).toEqual(["degraded"]);
    expect(lines.some((l) => /listener failed/.test(l.msg))).toBe(true);
  });
});
