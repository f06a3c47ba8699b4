// Writing traces: one upsert per batch (a trace_id written again replaces
// the row, the consumer's re-delivery after a restart and a second consumer
// finishing the same connection alike), and the trace's hop endpoints
// replaced with it, in the same transaction.
import { InvalidArgumentError } from "../../errors/mod.js";
import { v1, type Trace, type TraceInit } from "../../model/mod.js";
import { traceLastUs } from "../blocks/mod.js";
import type { PutResult } from "../store.js";
import type { PgConnection } from "./connection.js";

// written: the order of writes, so "the newest write" (tracesOfSockets) is a column.
const UPSERT_TRACES = `INSERT INTO traces (trace_id, start_us, end_us, last_us, outcome, origin_role, written, body)
  SELECT u.id, u.s, u.e, u.l, u.o, u.r, nextval('traces_written'), u.b
    FROM unnest($1::text[], $2::int8[], $3::int8[], $4::int8[], $5::int4[], $6::int4[], $7::bytea[]) AS u(id, s, e, l, o, r, b)
  ON CONFLICT (trace_id) DO UPDATE SET start_us = excluded.start_us, end_us = excluded.end_us, last_us = excluded.last_us,
    outcome = excluded.outcome, origin_role = excluded.origin_role, written = excluded.written, body = excluded.body
  RETURNING (xmax = 0) AS inserted`;
const DELETE_ENDPOINTS = `DELETE FROM trace_endpoints WHERE trace_id = ANY($1::text[])`;
const INSERT_ENDPOINTS = `INSERT INTO trace_endpoints (trace_id, socket_id, pod, ip, port, labels)
  SELECT u.t, u.s, u.p, u.i, u.n, u.l::jsonb FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int4[], $6::text[]) AS u(t, s, p, i, n, l)`;

export async function putTraces(db: PgConnection, traces: (Trace | TraceInit)[]): Promise<PutResult> {
  for (const t of traces) {
    if (!t.traceId) throw new InvalidArgumentError("a trace without trace_id cannot be stored", { property: "traceId" });
  }
  if (traces.length === 0) return { written: 0, duplicates: 0 };
  // The last copy of an id in the batch wins, as if written one by one; ids
  // in a fixed order, so two writers of overlapping batches lock rows in the
  // same order and never deadlock.
  const byId = new Map<string, Trace | TraceInit>();
  for (const t of traces) byId.set(t.traceId!, t);
  const batch = [...byId.values()].sort((a, b) => (a.traceId! < b.traceId! ? -1 : 1));
  const ids = batch.map((t) => t.traceId!);
  const endpoints = { trace: [] as string[], socket: [] as string[], pod: [] as string[], ip: [] as string[], port: [] as number[], labels: [] as string[] };
  for (const t of batch) {
    for (const h of t.hops ?? []) {
      for (const e of [h.client, h.server]) {
        if (!e) continue;
        endpoints.trace.push(t.traceId!);
        endpoints.socket.push(e.socketId ?? "");
        endpoints.pod.push(e.pod ?? "");
        endpoints.ip.push(e.ip ?? "");
        endpoints.port.push(e.port ?? 0);
        endpoints.labels.push(JSON.stringify(e.labels ?? {}));
      }
    }
  }
  const inserted = await db.transaction(async (c) => {
    const rows = (
      await c.query<{ inserted: boolean }>(UPSERT_TRACES, [
        ids,
        batch.map((t) => Number(t.startUs ?? 0)),
        batch.map((t) => Number(t.endUs ?? 0)),
        batch.map((t) => traceLastUs(t)),
        batch.map((t) => t.outcome ?? 0),
        batch.map((t) => t.resetOrigin?.role ?? 0),
        batch.map((t) => Buffer.from(v1.Trace.encode(t).finish())),
      ])
    ).rows;
    await c.query(DELETE_ENDPOINTS, [ids]);
    if (endpoints.trace.length > 0) {
      await c.query(INSERT_ENDPOINTS, [endpoints.trace, endpoints.socket, endpoints.pod, endpoints.ip, endpoints.port, endpoints.labels]);
    }
    return rows.filter((r) => r.inserted).length;
  });
  return { written: inserted, duplicates: traces.length - inserted };
}
