// Store errors on the one error base: every failure the store raises on
// purpose is a TcptrailError with an "ERR_STORE_<KIND>" code (or, for a
// caller's malformed input, an InvalidArgumentError naming the property), and
// carries what a caller may act on: the parameter, the file and its version.
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isInvalidArgumentError, isTcptrailError } from "../../src/errors/mod.js";
import { TcpState } from "../../src/model/mod.js";
import { SCHEMA_VERSION } from "../../src/store/schema.js";
import {
  BadQueryError,
  SchemaTooNewError,
  SqliteTraceStore,
  StoreClosedError,
  isBadQueryError,
  isSchemaTooNewError,
  isStoreClosedError,
  isStoreError,
  type EventSource,
} from "../../src/store/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";
import { A, B, stateEvent } from "./fixtures.js";

const source: EventSource = { node: "n1", bootId: "boot-1", agentStartUs: 1 };

/** The error `run` throws or rejects with; fails the test if it does neither. */
async function caught(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (e) {
    return e;
  }
  throw new Error("expected an error");
}

describe("store error classes", () => {
  it("build as (message, options) with a stable code, the subclass's name and the cause", () => {
    const cause = new Error("disk");
    const closed = new StoreClosedError("closed for the test", { cause });
    const tooNew = new SchemaTooNewError("too new", { path: "/x/t.db", found: 9, supported: 2, cause });
    const bad = new BadQueryError("bad cursor", { param: "cursor", cause });
    expect([closed.code, tooNew.code, bad.code]).toEqual(["ERR_STORE_CLOSED", "ERR_STORE_SCHEMA_TOO_NEW", "ERR_STORE_BAD_QUERY"]);
    expect([closed.name, tooNew.name, bad.name]).toEqual(["StoreClosedError", "SchemaTooNewError", "BadQueryError"]);
    for (const e of [closed, tooNew, bad]) {
      expect(e).toBeInstanceOf(Error);
      expect(isTcptrailError(e)).toBe(true);
      expect(isStoreError(e)).toBe(true);
      expect(e.cause).toBe(cause);
    }
    expect(closed.message).toBe("closed for the test");
    expect(tooNew).toMatchObject({ message: "too new", path: "/x/t.db", found: 9, supported: 2 });
    expect(bad).toMatchObject({ message: "bad cursor", param: "cursor" });
  });

  it("tell the kinds apart, and other errors from store errors", () => {
    const closed = new StoreClosedError("closed");
    expect(isStoreClosedError(closed)).toBe(true);
    expect(isBadQueryError(closed)).toBe(false);
    expect(isSchemaTooNewError(closed)).toBe(false);
    expect(isStoreError(new Error("plain"))).toBe(false);
    expect(isStoreError({ code: "ERR_STORE_CLOSED" })).toBe(false);
  });
});

describe("errors a SqliteTraceStore raises", () => {
  let tmp: TempDir;
  let path: string;
  let store: SqliteTraceStore;

  beforeEach(async () => {
    tmp = await makeTempDir("store-errors");
    path = join(tmp.path, "tcptrail.db");
    store = new SqliteTraceStore({ path });
  });
  afterEach(async () => {
    try {
      await store.close();
    } finally {
      await tmp.remove();
    }
  });

  it("names the query parameter it cannot interpret", async () => {
    const params = [
      await caught(() => store.listTraces({ cursor: "garbage" })),
      await caught(() => store.listTraces({ limit: 0 })),
      await caught(() => store.timeline({})),
      await caught(() => store.timeline({ socketId: "not-a-socket" })),
    ].map((e) => (isBadQueryError(e) ? [e.code, e.param] : e));
    expect(params).toEqual([
      ["ERR_STORE_BAD_QUERY", "cursor"],
      ["ERR_STORE_BAD_QUERY", "limit"],
      ["ERR_STORE_BAD_QUERY", "socket"],
      ["ERR_STORE_BAD_QUERY", "socket"],
    ]);
  });

  it("says the store is closed, with its code, for every entry point", async () => {
    await store.close();
    const errors = [
      await caught(() => store.getTrace("x")),
      await caught(() => store.putEvents(source, [])),
      await caught(() => store.stats()),
      await caught(async () => {
        for await (const _ of store.replayEvents({ sinceUs: 0 })) void _;
      }),
    ];
    for (const e of errors) {
      expect(isStoreClosedError(e) && isTcptrailError(e) && e.code).toBe("ERR_STORE_CLOSED");
    }
  });

  it("carries the file, its schema version and the supported one when the schema is too new", async () => {
    await store.close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 7}`);
    raw.close();
    const err = await caught(() => new SqliteTraceStore({ path }));
    expect(isSchemaTooNewError(err)).toBe(true);
    expect(err).toMatchObject({
      code: "ERR_STORE_SCHEMA_TOO_NEW",
      path,
      found: SCHEMA_VERSION + 7,
      supported: SCHEMA_VERSION,
      message: `${path} has schema version ${SCHEMA_VERSION + 7}, this tcptrail supports up to ${SCHEMA_VERSION}`,
    });
    store = new SqliteTraceStore({ path: ":memory:" });
  });

  it("rejects input that cannot be stored or read back as an invalid argument naming the property", async () => {
    const good = stateEvent({ sock: "1", tNs: 1000, local: [A, 1], remote: [B, 2], from: TcpState.TCP_STATE_CLOSE, to: TcpState.TCP_STATE_SYN_SENT });
    const errors = [
      await caught(() => store.putEvents(source, [{ ...good, seq: 0 }])),
      await caught(() => store.putTraces([{ traceId: "" }])),
      await caught(async () => {
        for await (const _ of store.replayEvents({ sinceUs: 0, batchSize: 0 })) void _;
      }),
    ];
    expect(errors.map((e) => (isInvalidArgumentError(e) ? [e.code, e.property, e.message] : e))).toEqual([
      ["ERR_INVALID_ARGUMENT", "seq", "an event without seq cannot be stored idempotently"],
      ["ERR_INVALID_ARGUMENT", "traceId", "a trace without trace_id cannot be stored"],
      ["ERR_INVALID_ARGUMENT", "batchSize", "batchSize must be an integer >= 1"],
    ]);
  });
});
