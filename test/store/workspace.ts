// One store per test, the setup the store tests share. A test may close the
// store and open another on the same storage (reopen, migrations): it
// assigns ws.store (or calls reopen()), and afterEach closes whichever store
// is current before the storage goes, so nothing is left open or on disk.
//
// storeForEachTest: a SqliteTraceStore in a temp dir (SQLite-only tests use
// its file and seal()). traceStoreForEachTest: any TraceStore from a
// harness, for the conformance suite (./conformance.ts).
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { SqliteTraceStore, type TraceStore } from "../../src/store/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";

/** The database file's name inside the test's dir. */
export const DEFAULT_DB_NAME = "tcptrail.db";

/** What the conformance suite needs of a store under test. */
export interface TraceStoreWorkspace {
  /** The store afterEach closes. */
  readonly store: TraceStore;
  /** Close the store and open a new one on the same data. */
  reopen(): Promise<void>;
  /** Whatever the implementation does to data at rest (SQLite seals hot traces into blocks); may do nothing. */
  compact(): Promise<void>;
}

/** How one implementation's stores are made for a test. */
export interface TraceStoreHarness<S extends TraceStore, D> {
  /** Fresh, empty storage for one test (a temp dir, a database). */
  create(): Promise<D>;
  open(storage: D): Promise<S>;
  /** Remove what create() made; the store is closed already. */
  remove(storage: D): Promise<void>;
  compact?(store: S): Promise<void>;
}

export interface StoreWorkspace<S extends TraceStore = SqliteTraceStore, D = unknown> extends TraceStoreWorkspace {
  store: S;
  /** This test's storage, as the harness made it. */
  readonly storage: D;
}

export function traceStoreForEachTest<S extends TraceStore, D>(h: TraceStoreHarness<S, D>): StoreWorkspace<S, D> {
  let storage: D | undefined;
  let store: S | undefined;
  beforeEach(async () => {
    storage = await h.create();
    store = await h.open(storage);
  });
  afterEach(async () => {
    try {
      await store?.close();
    } finally {
      if (storage !== undefined) await h.remove(storage);
      store = undefined;
      storage = undefined;
    }
  });
  const outside = (): never => {
    throw new Error("the store workspace is used outside a test");
  };
  return {
    get storage() {
      return storage ?? outside();
    },
    get store() {
      return store ?? outside();
    },
    set store(next: S) {
      store = next;
    },
    async reopen() {
      await (store ?? outside()).close();
      store = await h.open(storage ?? outside());
    },
    async compact() {
      await h.compact?.(store ?? outside());
    },
  };
}

/** A SqliteTraceStore on `<temp dir>/tcptrail.db`, the dir removed after the test. */
export const sqliteHarness = (label: string): TraceStoreHarness<SqliteTraceStore, TempDir> => ({
  create: () => makeTempDir(label),
  open: async (tmp) => new SqliteTraceStore({ path: join(tmp.path, DEFAULT_DB_NAME) }),
  remove: (tmp) => tmp.remove(),
  compact: async (store) => {
    await store.seal();
  },
});

export interface SqliteStoreWorkspace extends StoreWorkspace<SqliteTraceStore, TempDir> {
  /** This test's private temp dir. */
  readonly dir: string;
}

export function storeForEachTest(label: string): SqliteStoreWorkspace {
  const ws = traceStoreForEachTest(sqliteHarness(label));
  return Object.defineProperty(ws, "dir", { get: () => ws.storage.path, enumerable: true }) as SqliteStoreWorkspace;
}
