// One store per test in its own temp dir, the setup the store tests share.
// A test may close the store and open another on the same file (reopen,
// migrations): it assigns ws.store, and afterEach closes whichever store is
// current before removing the dir, so nothing is left open or on disk.
import { join } from "node:path";
import { afterEach, beforeEach } from "vitest";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";

/** The database file's name inside the test's dir. */
export const DEFAULT_DB_NAME = "tcptrail.db";

export interface StoreWorkspace {
  /** This test's private temp dir. */
  readonly dir: string;
  /** The store afterEach closes; reassign it when a test reopens. */
  store: SqliteTraceStore;
}

export function storeForEachTest(label: string): StoreWorkspace {
  let tmp: TempDir | undefined;
  let store: SqliteTraceStore | undefined;
  beforeEach(async () => {
    tmp = await makeTempDir(label);
    store = new SqliteTraceStore({ path: join(tmp.path, DEFAULT_DB_NAME) });
  });
  afterEach(async () => {
    try {
      await store?.close();
    } finally {
      await tmp?.remove();
      store = undefined;
      tmp = undefined;
    }
  });
  const outside = (): never => {
    throw new Error("the store workspace is used outside a test");
  };
  return {
    get dir() {
      return tmp?.path ?? outside();
    },
    get store() {
      return store ?? outside();
    },
    set store(next: SqliteTraceStore) {
      store = next;
    },
  };
}
