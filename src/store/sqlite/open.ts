// Opening the database file: the pragmas the store relies on, then the schema.
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import Database from "better-sqlite3";
import { migrate } from "../schema.js";

/** An open, migrated connection in WAL mode, so the API can read while the consumer writes. */
export function openDatabase(path: string, busyTimeoutMs: number): Database.Database {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { timeout: busyTimeoutMs });
  try {
    // Before WAL: a new file's auto_vacuum only takes when set before its
    // journal mode (and first table), and without it incremental_vacuum never
    // gives a freed page back, so retention could not shrink the file. On a
    // file that has tables this does nothing.
    db.pragma("auto_vacuum = INCREMENTAL");
    db.pragma("journal_mode = WAL");
    // With WAL, NORMAL survives a process crash; a power cut may lose the last
    // commits, which the durable JetStream consumer re-delivers anyway.
    db.pragma("synchronous = NORMAL");
    db.pragma("temp_store = MEMORY");
    db.pragma("cache_size = -16384");
    migrate(db, path);
  } catch (e) {
    db.close();
    throw e;
  }
  return db;
}
