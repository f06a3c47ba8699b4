// The one merge of a SqliteTraceStore's options with their defaults.
import { describe, expect, it } from "vitest";
import { silentLogger } from "../../src/log/logger.js";
import { isInvalidArgumentError } from "../../src/errors/mod.js";
import {
  DEFAULT_BUSY_TIMEOUT_MS,
  DEFAULT_SEAL_AFTER_MS,
  DEFAULT_SEAL_TRACES,
  defaultDatabasePath,
  resolveSqliteStoreOptions,
} from "../../src/store/sqlite/options.js";

describe("resolveSqliteStoreOptions", () => {
  it("puts the database in the state directory the environment names, else /var/lib/tcptrail", () => {
    expect(defaultDatabasePath({ TCPTRAIL_STATE_DIR: "/srv/trail" })).toBe("/srv/trail/tcptrail.db");
    expect(defaultDatabasePath({})).toBe("/var/lib/tcptrail/tcptrail.db");
    // An empty variable is unset, not the current directory.
    expect(defaultDatabasePath({ TCPTRAIL_STATE_DIR: "" })).toBe("/var/lib/tcptrail/tcptrail.db");
  });

  it("fills in every default the caller left out", () => {
    expect(resolveSqliteStoreOptions({}, { TCPTRAIL_STATE_DIR: "/srv/trail" })).toEqual({
      path: "/srv/trail/tcptrail.db",
      busyTimeoutMs: DEFAULT_BUSY_TIMEOUT_MS,
      log: silentLogger,
      sealTraces: DEFAULT_SEAL_TRACES,
      sealAfterMs: DEFAULT_SEAL_AFTER_MS,
    });
  });

  it("keeps what the caller gave", () => {
    const log = silentLogger.child({ test: true });
    expect(resolveSqliteStoreOptions({ path: ":memory:", busyTimeoutMs: 50, log, sealTraces: 16, sealAfterMs: 250 }, {})).toEqual({
      path: ":memory:",
      busyTimeoutMs: 50,
      log,
      sealTraces: 16,
      sealAfterMs: 250,
    });
  });

  it("refuses a seal size or age that is not a whole positive number, naming the option", () => {
    for (const [name, bad] of [
      ["sealTraces", 0],
      ["sealTraces", 1.5],
      ["sealAfterMs", -1],
      ["sealAfterMs", Number.NaN],
    ] as const) {
      let err: unknown;
      try {
        resolveSqliteStoreOptions({ [name]: bad }, {});
      } catch (e) {
        err = e;
      }
      expect(isInvalidArgumentError(err), `${name}=${bad}`).toBe(true);
      expect((err as { property: string }).property).toBe(name);
    }
  });
});
