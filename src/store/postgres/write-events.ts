// Writing raw events: one row per event, keyed by (stream, seq), so a
// re-delivered event (the durable JetStream consumer re-sends what it did
// not ack; two consumers may both hold a batch across a redelivery) is
// skipped by the key, never stored twice.
import { InvalidArgumentError } from "../../errors/mod.js";
import type { ConnEvent, ConnEventInit } from "../../model/mod.js";
import { encodeBatch } from "../../transport/batch-codec.js";
import type { EventSource, PutResult } from "../store.js";
import type { PgConnection } from "./connection.js";

const INSERT_STREAM = `INSERT INTO streams (node, boot_id, agent_start_us) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`;
const STREAM_ID = `SELECT id FROM streams WHERE node = $1 AND boot_id = $2 AND agent_start_us = $3`;
const INSERT_EVENTS = `INSERT INTO events (stream_id, seq, time_us, ts_ns, node, sock, local_ip, local_port, remote_ip, remote_port, body)
  SELECT $1, u.seq, u.t, u.ns, $2, u.sock, u.li, u.lp, u.ri, u.rp, u.b
    FROM unnest($3::int8[], $4::int8[], $5::int8[], $6::text[], $7::text[], $8::int4[], $9::text[], $10::int4[], $11::bytea[])
      AS u(seq, t, ns, sock, li, lp, ri, rp, b)
  ON CONFLICT (stream_id, seq) DO NOTHING`;

type AnyEvent = ConnEvent | ConnEventInit;

export class EventWriter {
  readonly #db: PgConnection;
  // Stream ids never change once assigned, and every batch names its stream.
  readonly #streamIds = new Map<string, number>();

  constructor(db: PgConnection) {
    this.#db = db;
  }

  async putEvents(source: EventSource, events: AnyEvent[]): Promise<PutResult> {
    if (events.length === 0) return { written: 0, duplicates: 0 };
    for (const e of events) {
      if (!(Number.isSafeInteger(e.seq) && (e.seq as number) > 0)) {
        throw new InvalidArgumentError("an event without seq cannot be stored idempotently", { property: "seq" });
      }
    }
    // One event per seq: a repeated seq within one call is a duplicate too.
    const bySeq = new Map<number, AnyEvent>();
    for (const e of events) if (!bySeq.has(e.seq as number)) bySeq.set(e.seq as number, e);
    const batch = [...bySeq.values()];
    const streamId = await this.#streamId(source);
    const written = await this.#db.transaction(async (c) => {
      const r = await c.query(INSERT_EVENTS, [
        streamId,
        source.node,
        batch.map((e) => e.seq),
        batch.map((e) => e.timeUs ?? 0),
        batch.map((e) => e.tsNs.toString()),
        batch.map((e) => e.sock ?? ""),
        batch.map((e) => e.local?.ip ?? ""),
        batch.map((e) => e.local?.port ?? 0),
        batch.map((e) => e.remote?.ip ?? ""),
        batch.map((e) => e.remote?.port ?? 0),
        // The transport's own encoding of a one-event batch: exact kernel times, no second codec.
        batch.map((e) => Buffer.from(encodeBatch(source, [e]))),
      ]);
      return r.rowCount ?? 0;
    });
    return { written, duplicates: events.length - written };
  }

  async #streamId(src: EventSource): Promise<number> {
    const args = [src.node, src.bootId, src.agentStartUs ?? 0];
    const key = args.join("\0");
    let id = this.#streamIds.get(key);
    if (id === undefined) {
      await this.#db.query(INSERT_STREAM, args);
      id = (await this.#db.query<{ id: number }>(STREAM_ID, args))[0]!.id;
      this.#streamIds.set(key, id);
    }
    return id;
  }
}
