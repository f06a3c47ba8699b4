// The SQLite schema, as an ordered list of migrations. `PRAGMA user_version`
// records how many have run, so opening an old file upgrades it in place and
// opening a newer one is refused (SchemaTooNewError) instead of misread.
import type { Database } from "better-sqlite3";
import { SchemaTooNewError } from "./errors.js";

/**
 * Each entry runs once, in its own transaction, in order. Never edit a shipped
 * entry: append a new one. Exported so tests can build a file as an older
 * tcptrail wrote it and open it with this one.
 */
export const migrations: readonly string[] = [
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
  // 3: compact storage (issue 9). Raw events are kept one row per received
  // batch, in a ring bounded on its own, instead of one indexed row per event
  // (~350 B each); traces live in compressed blocks of thousands, found by a
  // key index and per-block summaries, instead of a row per trace, hop and
  // socket (~1.3 KB). Stored traces move to the hot table and are sealed into
  // blocks like new ones; stored raw events are dropped (the JetStream events
  // stream holds them).
  `
  -- Raw events: one row per batch the consumer received (the transport's
  -- EventBatch encoding, kernel times as offsets from the batch base). The
  -- replay after a restart and the live timelines read these. A row claims
  -- the seqs [first_seq, last_seq] of its stream (rows never overlap) and
  -- spans at most MAX_ROW_SPAN_US (sqlite/event-rows.ts), which makes a time
  -- window one range of the last_us index.
  CREATE TABLE event_batches (
    id        INTEGER PRIMARY KEY,
    stream_id INTEGER NOT NULL,
    first_seq INTEGER NOT NULL,
    last_seq  INTEGER NOT NULL,
    -- Wall µs of the earliest and latest event (not the first and last in
    -- seq order: an event released late may sit anywhere in the batch).
    first_us  INTEGER NOT NULL,
    last_us   INTEGER NOT NULL,
    -- Kernel ns of the earliest and latest event: exact as 64-bit integers.
    first_ns  INTEGER NOT NULL,
    last_ns   INTEGER NOT NULL,
    count     INTEGER NOT NULL,
    -- A Bloom filter over the row's socket addresses, endpoints and
    -- addresses: a timeline skips the row without reading its body. Before
    -- body, so reading it never walks the body's overflow pages.
    filter    BLOB    NOT NULL,
    body      BLOB    NOT NULL,
    UNIQUE (stream_id, first_seq)
  );
  -- Covering for window queries (last_us range, first_us filter) and retention.
  CREATE INDEX event_batches_last_us  ON event_batches (last_us, first_us);
  -- Replay's order (first_us, id) and the ring's oldest event.
  CREATE INDEX event_batches_first_us ON event_batches (first_us);
  -- A socket with no stored trace, found from its birth in kernel time.
  CREATE INDEX event_batches_ns       ON event_batches (stream_id, last_ns, first_ns);
  DROP TABLE events;
  DROP TABLE sockets;

  -- Traces written since the last seal: plain protobuf, one row each, so a
  -- trace is queryable as soon as putTraces returns. outcome and origin_role
  -- (the reset origin's role, 0 when none) let listTraces filter without
  -- decoding; the start index gives its order. A rowid table, not WITHOUT
  -- ROWID: a ~1.1 KB body does not fit an index-like cell and spills into
  -- overflow pages, which made inserts 3x slower (measured).
  CREATE TABLE hot_traces (
    trace_id    TEXT    NOT NULL UNIQUE,
    start_us    INTEGER NOT NULL,
    end_us      INTEGER NOT NULL,
    last_us     INTEGER NOT NULL,
    outcome     INTEGER NOT NULL,
    origin_role INTEGER NOT NULL,
    body        BLOB    NOT NULL
  );
  CREATE INDEX hot_traces_start ON hot_traces (start_us, trace_id);
  INSERT INTO hot_traces (trace_id, start_us, end_us, last_us, outcome, origin_role, body)
    SELECT trace_id, start_us, end_us, last_us, outcome, origin_role, body FROM traces;
  DROP TABLE hops;
  DROP TABLE traces;

  -- Sealed traces: a compressed block of many (src/store/blocks/), with what
  -- lets a query skip the block without decompressing it. AUTOINCREMENT: an
  -- id is never reused, so a reader's cache of decoded blocks by id is never
  -- stale. max_end_us is the latest end, 2^53 - 1 while a trace is open (a
  -- since filter skips by it); max_last_us drives age retention.
  CREATE TABLE trace_blocks (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    count        INTEGER NOT NULL,
    min_start_us INTEGER NOT NULL,
    max_start_us INTEGER NOT NULL,
    min_last_us  INTEGER NOT NULL,
    max_last_us  INTEGER NOT NULL,
    max_end_us   INTEGER NOT NULL,
    -- Bit i set: some trace in the block has outcome i / reset origin role i.
    outcomes     INTEGER NOT NULL,
    roles        INTEGER NOT NULL,
    -- A Bloom filter over the block's pods, addresses, ports and socket ids.
    filter       BLOB    NOT NULL,
    body         BLOB    NOT NULL
  );
  CREATE INDEX trace_blocks_start ON trace_blocks (max_start_us);
  CREATE INDEX trace_blocks_last  ON trace_blocks (max_last_us);

  -- Which block holds a trace: a 48-bit hash of its id (collisions only cost
  -- a block decoded in vain).
  CREATE TABLE trace_keys (
    key   INTEGER NOT NULL,
    block INTEGER NOT NULL,
    PRIMARY KEY (key, block)
  ) WITHOUT ROWID;

  -- A sealed trace written again later (re-delivery after a restart): the
  -- new copy is in hot_traces or a newer block, and reads skip this one by
  -- its position in its block. Deleted with the block.
  CREATE TABLE trace_dead (
    block INTEGER NOT NULL,
    idx   INTEGER NOT NULL,
    PRIMARY KEY (block, idx)
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
