// Writing events and traces, one transaction per batch. Both are idempotent,
// because the durable JetStream consumer re-delivers whatever it did not ack:
// an event is keyed by (stream, seq), so a second copy is skipped; a trace is
// keyed by its id, so a second copy replaces the first, hops and all.
import type Database from "better-sqlite3";
import { InvalidArgumentError } from "../../errors/mod.js";
import {
  v1,
  toWireEvent,
  parseSocketId,
  type ConnEvent,
  type ConnEventInit,
  type HopEndpoint,
  type Trace,
  type TraceInit,
} from "../../model/mod.js";
import type { EventSource, PutResult } from "../store.js";
import { traceExists } from "./lookup.js";
import type { PreparedStatements } from "./statements.js";

const INSERT_STREAM = `INSERT OR IGNORE INTO streams (node, boot_id, agent_start_us) VALUES (?, ?, ?)`;
const STREAM_ID = `SELECT id FROM streams WHERE node = ? AND boot_id = ? AND agent_start_us = ?`;
const INSERT_EVENT = `INSERT OR IGNORE INTO events (stream_id, seq, time_us, ts_ns, kind, sock, old_state, new_state,
         local_ip, local_port, remote_ip, remote_port, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const DELETE_HOPS = `DELETE FROM hops WHERE trace_id = ?`;
const UPSERT_TRACE = `INSERT OR REPLACE INTO traces (trace_id, start_us, end_us, last_us, outcome, origin_role, origin_pod,
         hop_count, explanation, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const INSERT_HOP = `INSERT OR REPLACE INTO hops (trace_id, idx, client_socket, client_ip, client_port, client_pod, client_role,
         server_socket, server_ip, server_port, server_pod, server_role, orig_ip, orig_port, outcome, reset_by,
         reset_reason, link, start_us, end_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const UPSERT_SOCKET = `INSERT INTO sockets (socket_id, node, sock, birth_ns, ip, port, pod, netns, role, leg, pid, comm, uid, last_us)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (socket_id) DO UPDATE SET ip = excluded.ip, port = excluded.port, pod = excluded.pod,
         netns = excluded.netns, role = excluded.role, leg = excluded.leg, pid = excluded.pid, comm = excluded.comm,
         uid = excluded.uid, last_us = max(last_us, excluded.last_us)`;

export class StoreWriter {
  readonly #statements: PreparedStatements;
  // Stream ids never change once assigned, and every batch names its stream.
  readonly #streamIds = new Map<string, number>();
  readonly #writeTraces: Database.Transaction<(traces: (Trace | TraceInit)[]) => PutResult>;
  readonly #writeEvents: Database.Transaction<(streamId: number, events: (ConnEvent | ConnEventInit)[]) => PutResult>;

  constructor(statements: PreparedStatements) {
    this.#statements = statements;
    // A batch is all or nothing: one event that cannot be keyed rolls back the rest.
    this.#writeTraces = statements.db.transaction((traces: (Trace | TraceInit)[]) => this.#insertTraces(traces));
    this.#writeEvents = statements.db.transaction((streamId: number, events: (ConnEvent | ConnEventInit)[]) =>
      this.#insertEvents(streamId, events),
    );
  }

  putTraces(traces: (Trace | TraceInit)[]): PutResult {
    return this.#writeTraces(traces);
  }

  putEvents(source: EventSource, events: (ConnEvent | ConnEventInit)[]): PutResult {
    if (events.length === 0) return { written: 0, duplicates: 0 };
    return this.#writeEvents(this.#streamId(source), events);
  }

  #streamId(src: EventSource): number {
    const key = `${src.node}\0${src.bootId}\0${src.agentStartUs ?? 0}`;
    let id = this.#streamIds.get(key);
    if (id === undefined) {
      const args = [src.node, src.bootId, src.agentStartUs ?? 0];
      this.#statements.get(INSERT_STREAM).run(...args);
      id = (this.#statements.get(STREAM_ID).get(...args) as { id: number }).id;
      this.#streamIds.set(key, id);
    }
    return id;
  }

  #insertEvents(streamId: number, events: (ConnEvent | ConnEventInit)[]): PutResult {
    const insertEvent = this.#statements.get(INSERT_EVENT);
    let written = 0;
    for (const e of events) {
      const seq = e.seq ?? 0;
      if (seq <= 0) {
        throw new InvalidArgumentError("an event without seq cannot be stored idempotently", { property: "seq" });
      }
      written += insertEvent.run(
        streamId,
        seq,
        e.timeUs ?? 0,
        e.tsNs,
        e.kind ?? 0,
        e.sock ?? "",
        e.oldState ?? 0,
        e.newState ?? 0,
        e.local?.ip ?? "",
        e.local?.port ?? 0,
        e.remote?.ip ?? "",
        e.remote?.port ?? 0,
        // The body's kernel times are relative to the row's own ts_ns (see decodeEvent).
        v1.ConnEvent.encode(toWireEvent(e, e.tsNs)).finish(),
      ).changes;
    }
    return { written, duplicates: events.length - written };
  }

  #insertTraces(traces: (Trace | TraceInit)[]): PutResult {
    let written = 0;
    for (const t of traces) {
      const id = t.traceId;
      if (!id) throw new InvalidArgumentError("a trace without trace_id cannot be stored", { property: "traceId" });
      const existed = traceExists(this.#statements, id);
      // A replaced trace may have fewer hops than before: none of the old ones may linger.
      this.#statements.get(DELETE_HOPS).run(id);
      const hops = t.hops ?? [];
      const startUs = t.startUs ?? 0;
      const endUs = t.endUs ?? 0;
      let lastUs = Math.max(startUs, endUs);
      for (const h of hops) lastUs = Math.max(lastUs, h.startUs ?? 0, h.endUs ?? 0);
      this.#statements.get(UPSERT_TRACE).run(
        id,
        startUs,
        endUs,
        lastUs,
        t.outcome ?? 0,
        t.resetOrigin?.role ?? 0,
        t.resetOrigin?.pod ?? "",
        hops.length,
        t.explanation ?? "",
        v1.Trace.encode(t).finish(),
      );
      for (const h of hops) {
        const c = h.client ?? {};
        const s = h.server ?? {};
        this.#statements.get(INSERT_HOP).run(
          id,
          h.index ?? 0,
          c.socketId ?? "",
          c.ip ?? "",
          c.port ?? 0,
          c.pod ?? "",
          c.role ?? 0,
          s.socketId ?? "",
          s.ip ?? "",
          s.port ?? 0,
          s.pod ?? "",
          s.role ?? 0,
          h.originalDestination?.ip ?? "",
          h.originalDestination?.port ?? 0,
          h.outcome ?? 0,
          h.resetBy ?? "",
          h.resetReason ?? 0,
          h.link ?? "",
          h.startUs ?? 0,
          h.endUs ?? 0,
        );
        this.#upsertSocket(c, lastUs);
        this.#upsertSocket(s, lastUs);
      }
      if (!existed) written++;
    }
    return { written, duplicates: traces.length - written };
  }

  /** Remember a traced socket by identity, so its timeline can find its events later. */
  #upsertSocket(ep: HopEndpoint, lastUs: number): void {
    if (!ep.socketId) return;
    const ident = parseSocketId(ep.socketId);
    this.#statements.get(UPSERT_SOCKET).run(
      ep.socketId,
      ident?.node ?? ep.node ?? "",
      ident?.sock ?? "",
      ident?.birthNs ?? 0n,
      ep.ip ?? "",
      ep.port ?? 0,
      ep.pod ?? "",
      ep.netns ?? 0,
      ep.role ?? 0,
      ep.leg ?? 0,
      ep.pid ?? 0,
      ep.comm ?? "",
      ep.uid ?? 0,
      lastUs,
    );
  }
}
