// The PostgreSQL schema, as ordered migrations recorded in a version row.
// Unlike the SQLite file there is no density to win here: one row per trace
// (its protobuf as written) and one per raw event, with the columns and
// indexes the filters need, and the server does the rest.
import type { PoolClient } from "pg";
import { SchemaTooNewError } from "../errors.js";

/**
 * Each entry runs once, in order, in the transaction that records it. Never
 * edit a shipped entry: append one. µs and kernel ns are bigint (int8).
 */
export const PG_MIGRATIONS: readonly string[] = [
  // 1: streams, events, traces and their endpoints, meta.
  `
  -- One row per agent run: seqs restart with every agent, so (stream, seq) is an event's identity.
  CREATE TABLE streams (
    id             bigserial PRIMARY KEY,
    node           text   NOT NULL,
    boot_id        text   NOT NULL,
    agent_start_us bigint NOT NULL,
    UNIQUE (node, boot_id, agent_start_us)
  );

  -- Raw events, one row each; body is the event as its batch encoding (exact kernel times).
  -- node is the stream's, repeated so that a socket's events are one index range.
  CREATE TABLE events (
    stream_id   bigint  NOT NULL REFERENCES streams (id),
    seq         bigint  NOT NULL,
    time_us     bigint  NOT NULL,
    ts_ns       bigint  NOT NULL,
    node        text    NOT NULL,
    sock        text    NOT NULL,
    local_ip    text    NOT NULL,
    local_port  integer NOT NULL,
    remote_ip   text    NOT NULL,
    remote_port integer NOT NULL,
    body        bytea   NOT NULL,
    PRIMARY KEY (stream_id, seq)
  );
  CREATE INDEX events_time   ON events (time_us, stream_id, seq);
  CREATE INDEX events_local  ON events (local_ip, local_port, time_us);
  CREATE INDEX events_remote ON events (remote_ip, remote_port, time_us);
  CREATE INDEX events_sock   ON events (node, sock, ts_ns);

  -- One row per trace. end_us is 0 while open; last_us (the latest time it
  -- covers) drives age retention; written orders rewrites (newest write wins).
  CREATE TABLE traces (
    trace_id    text    PRIMARY KEY,
    start_us    bigint  NOT NULL,
    end_us      bigint  NOT NULL,
    last_us     bigint  NOT NULL,
    outcome     integer NOT NULL,
    origin_role integer NOT NULL,
    written     bigint  NOT NULL,
    body        bytea   NOT NULL
  );
  CREATE SEQUENCE traces_written;
  CREATE INDEX traces_start   ON traces (start_us DESC, trace_id DESC);
  CREATE INDEX traces_last    ON traces (last_us, trace_id);
  CREATE INDEX traces_outcome ON traces (outcome, start_us DESC);

  -- Every hop endpoint of a trace, so pod, label, address and socket filters hit an index.
  CREATE TABLE trace_endpoints (
    trace_id  text    NOT NULL REFERENCES traces (trace_id) ON DELETE CASCADE,
    socket_id text    NOT NULL,
    pod       text    NOT NULL,
    ip        text    NOT NULL,
    port      integer NOT NULL,
    labels    jsonb   NOT NULL
  );
  CREATE INDEX trace_endpoints_trace  ON trace_endpoints (trace_id);
  CREATE INDEX trace_endpoints_socket ON trace_endpoints (socket_id) WHERE socket_id <> '';
  CREATE INDEX trace_endpoints_pod    ON trace_endpoints (pod);
  CREATE INDEX trace_endpoints_addr   ON trace_endpoints (ip, port);
  CREATE INDEX trace_endpoints_port   ON trace_endpoints (port);
  CREATE INDEX trace_endpoints_labels ON trace_endpoints USING gin (labels jsonb_path_ops);

  -- Small named values (the consumer's checkpoint, the events horizon).
  CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
  );
  `,
];

export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;

// Any fixed number: two consumers opening one database at once take turns.
const MIGRATION_LOCK = 0x7463_7074; // "tcpt"

/**
 * Bring the database to PG_SCHEMA_VERSION in one transaction under an
 * advisory lock, so that two processes opening a new database at once do
 * not both create the tables. `where` names the database in errors.
 */
export async function migratePostgres(client: PoolClient, where: string): Promise<void> {
  await client.query("BEGIN");
  try {
    await client.query("SELECT pg_advisory_xact_lock($1)", [MIGRATION_LOCK]);
    await client.query("CREATE TABLE IF NOT EXISTS tcptrail_schema (version integer NOT NULL)");
    const rows = (await client.query<{ version: number }>("SELECT version FROM tcptrail_schema")).rows;
    const current = rows[0]?.version ?? 0;
    if (current > PG_SCHEMA_VERSION) {
      throw new SchemaTooNewError(`${where} has schema version ${current}, this tcptrail supports up to ${PG_SCHEMA_VERSION}`, {
        path: where,
        found: current,
        supported: PG_SCHEMA_VERSION,
      });
    }
    for (let v = current; v < PG_SCHEMA_VERSION; v++) await client.query(PG_MIGRATIONS[v]!);
    if (rows.length === 0) await client.query("INSERT INTO tcptrail_schema (version) VALUES ($1)", [PG_SCHEMA_VERSION]);
    else if (current < PG_SCHEMA_VERSION) await client.query("UPDATE tcptrail_schema SET version = $1", [PG_SCHEMA_VERSION]);
    await client.query("COMMIT");
  } catch (e) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw e;
  }
}
