// The SQLite schema, as an ordered list of migrations. `PRAGMA user_version`
// records how many have run, so opening an old file upgrades it in place and
// opening a newer one is refused (SchemaTooNewError) instead of misread.
import type { Database } from "better-sqlite3";
import { SchemaTooNewError } from "./errors.js";

/**
 * Each entry runs once, in its own transaction, in order. Never edit a shipped
 * entry: append a new one.
 */
const migrations: readonly string[] = [
  // 1: streams, events, traces, hops, sockets.
  `
  -- One row per agent run: event seq numbers restart with each agent, so
  -- (stream, seq) is the event's identity and makes re-delivery idempotent.
  CREATE TABLE streams (
    id             INTEGER PRIMARY KEY,
    node           TEXT    NOT NULL,
    boot_id        TEXT    NOT NULL,
    agent_start_us INTEGER NOT NULL,
    UNIQUE (node, boot_id, agent_start_us)
  );

  -- Raw events. The columns are what queries filter on; body is the protobuf
  -- exactly as received, so reads return what was written.
  CREATE TABLE events (
    stream_id   INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    time_us     INTEGER NOT NULL,
    ts_ns       INTEGER NOT NULL,
    kind        INTEGER NOT NULL,
    sock        TEXT    NOT NULL,
    old_state   INTEGER NOT NULL,
    new_state   INTEGER NOT NULL,
    local_ip    TEXT    NOT NULL,
    local_port  INTEGER NOT NULL,
    remote_ip   TEXT    NOT NULL,
    remote_port INTEGER NOT NULL,
    body        BLOB    NOT NULL,
    PRIMARY KEY (stream_id, seq)
  ) WITHOUT ROWID;
  CREATE INDEX events_time   ON events (time_us);
  CREATE INDEX events_local  ON events (local_ip, local_port, time_us);
  CREATE INDEX events_remote ON events (remote_ip, remote_port, time_us);
  CREATE INDEX events_sock   ON events (sock, ts_ns);

  -- One row per trace; last_us (the latest time the trace covers) drives retention.
  CREATE TABLE traces (
    trace_id    TEXT    PRIMARY KEY,
    start_us    INTEGER NOT NULL,
    end_us      INTEGER NOT NULL,
    last_us     INTEGER NOT NULL,
    outcome     INTEGER NOT NULL,
    origin_role INTEGER NOT NULL,
    origin_pod  TEXT    NOT NULL,
    hop_count   INTEGER NOT NULL,
    explanation TEXT    NOT NULL,
    body        BLOB    NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX traces_start   ON traces (start_us, trace_id);
  CREATE INDEX traces_last    ON traces (last_us);
  CREATE INDEX traces_outcome ON traces (outcome, start_us);

  -- Hops, flattened so pod, address and socket filters hit an index on either side.
  CREATE TABLE hops (
    trace_id      TEXT    NOT NULL,
    idx           INTEGER NOT NULL,
    client_socket TEXT    NOT NULL,
    client_ip     TEXT    NOT NULL,
    client_port   INTEGER NOT NULL,
    client_pod    TEXT    NOT NULL,
    client_role   INTEGER NOT NULL,
    server_socket TEXT    NOT NULL,
    server_ip     TEXT    NOT NULL,
    server_port   INTEGER NOT NULL,
    server_pod    TEXT    NOT NULL,
    server_role   INTEGER NOT NULL,
    orig_ip       TEXT    NOT NULL,
    orig_port     INTEGER NOT NULL,
    outcome       INTEGER NOT NULL,
    reset_by      TEXT    NOT NULL,
    reset_reason  INTEGER NOT NULL,
    link          TEXT    NOT NULL,
    start_us      INTEGER NOT NULL,
    end_us        INTEGER NOT NULL,
    PRIMARY KEY (trace_id, idx)
  ) WITHOUT ROWID;
  CREATE INDEX hops_client_addr   ON hops (client_ip, client_port);
  CREATE INDEX hops_server_addr   ON hops (server_ip, server_port);
  CREATE INDEX hops_client_port   ON hops (client_port);
  CREATE INDEX hops_server_port   ON hops (server_port);
  CREATE INDEX hops_client_pod    ON hops (client_pod);
  CREATE INDEX hops_server_pod    ON hops (server_pod);
  CREATE INDEX hops_client_socket ON hops (client_socket);
  CREATE INDEX hops_server_socket ON hops (server_socket);

  -- Every traced socket a hop names, by identity (node, sock, birth): the
  -- timeline of a socket starts here.
  CREATE TABLE sockets (
    socket_id TEXT    PRIMARY KEY,
    node      TEXT    NOT NULL,
    sock      TEXT    NOT NULL,
    birth_ns  INTEGER NOT NULL,
    ip        TEXT    NOT NULL,
    port      INTEGER NOT NULL,
    pod       TEXT    NOT NULL,
    netns     INTEGER NOT NULL,
    role      INTEGER NOT NULL,
    leg       INTEGER NOT NULL,
    pid       INTEGER NOT NULL,
    comm      TEXT    NOT NULL,
    uid       INTEGER NOT NULL,
    last_us   INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX sockets_last      ON sockets (last_us);
  `,
  // 2: small named values the consumer keeps next to the data they describe
  // (its replay checkpoint), so both survive or vanish together.
  `
  CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;
  `,
];

export const SCHEMA_VERSION = migrations.length;

/** Bring the database to SCHEMA_VERSION. */
export function migrate(db: Database, path: string): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new SchemaTooNewError(`${path} has schema version ${current}, this tcptrail supports up to ${SCHEMA_VERSION}`, {
      path,
      found: current,
      supported: SCHEMA_VERSION,
    });
  }
  if (current === 0) {
    // Only settable before the first table exists; lets retention hand freed
    // pages back to the file system with incremental_vacuum.
    db.pragma("auto_vacuum = INCREMENTAL");
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    db.transaction(() => {
      db.exec(migrations[v]!);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
