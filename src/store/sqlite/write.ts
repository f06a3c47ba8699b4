// Writing traces, one transaction per batch. Idempotent, because the durable
// JetStream consumer re-delivers whatever it did not ack: a trace is keyed by
// its id, so a second copy replaces the first, hops and all. (Raw events are
// written by write-events.ts.)
import type Database from "better-sqlite3";
import { InvalidArgumentError } from "../../errors/mod.js";
import { v1, parseSocketId, type HopEndpoint, type Trace, type TraceInit } from "../../model/mod.js";
import type { PutResult } from "../store.js";
import { traceExists } from "./lookup.js";
import type { PreparedStatements } from "./statements.js";

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
  readonly #writeTraces: Database.Transaction<(traces: (Trace | TraceInit)[]) => PutResult>;

  constructor(statements: PreparedStatements) {
    this.#statements = statements;
    // A batch is all or nothing: one trace that cannot be keyed rolls back the rest.
    this.#writeTraces = statements.db.transaction((traces: (Trace | TraceInit)[]) => this.#insertTraces(traces));
  }

  putTraces(traces: (Trace | TraceInit)[]): PutResult {
    return this.#writeTraces(traces);
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
