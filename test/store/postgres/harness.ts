// PostgreSQL stores for tests: one private server per test file (started in
// beforeAll, stopped by pid in afterAll), a fresh database per test.
import { afterAll, beforeAll } from "vitest";
import { PostgresTraceStore } from "../../../src/store/mod.js";
import { startPostgres, type TestPostgres } from "../../helpers/mod.js";
import type { TraceStoreHarness } from "../workspace.js";

export interface PostgresForFile {
  /** The running server (inside tests and hooks only). */
  readonly server: TestPostgres;
  /** A harness making one database per test on that server. */
  readonly harness: TraceStoreHarness<PostgresTraceStore, string>;
}

export function postgresForFile(label: string): PostgresForFile {
  let server: TestPostgres | undefined;
  let n = 0;
  beforeAll(async () => {
    server = await startPostgres({ label });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });
  const running = (): TestPostgres => server ?? (() => { throw new Error("the PostgreSQL server is used outside its test file's hooks"); })();
  return {
    get server() {
      return running();
    },
    harness: {
      create: () => running().createDatabase(`t${++n}`),
      open: (url) => PostgresTraceStore.open({ url }),
      // The database goes with the server at the end of the file.
      remove: async () => undefined,
    },
  };
}
