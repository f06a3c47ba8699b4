// Raw events as a ring of batch rows (issue 9): one row per putEvents call,
// idempotent by seq range, exact kernel times past 2^53, replay merged across
// overlapping batches, retention by whole rows with the horizon remembered,
// and the byte needles the timeline skips rows by.
import { join } from "node:path";
import Database from "better-sqlite3";
import { describe, expect, it } from "vitest";
import { EventKind, TcpState, type ConnEventInit } from "../../src/model/mod.js";
import type { EventSource, ReplayBatch } from "../../src/store/mod.js";
import { EVENTS_HORIZON_KEY } from "../../src/store/sqlite/event-retention.js";
import { buildBloom } from "../../src/store/blocks/bloom.js";
import { endpointNeedle, MAX_ROW_SPAN_US, packBody, ROW_OVERHEAD_BYTES, rowFilterKeys, sockNeedle } from "../../src/store/sqlite/event-rows.js";
import { EventRing } from "../../src/store/sqlite/event-ring.js";
import { openDatabase } from "../../src/store/sqlite/open.js";
import { tupleEvents } from "../../src/store/sqlite/socket-events.js";
import { PreparedStatements } from "../../src/store/sqlite/statements.js";
import { encodeBatch } from "../../src/transport/batch-codec.js";
import { DEFAULT_DB_NAME, storeForEachTest } from "./workspace.js";

const S = TcpState;
const src: EventSource = { node: "n1", bootId: "boot", agentStartUs: 7 };
const other: EventSource = { node: "n2", bootId: "boot", agentStartUs: 9 };
/** Past 2^53 ns (104 days of uptime): a double would round these. */
const FAR_NS = (1n << 53n) + 12_345n;

function ev(seq: number, timeUs: number, o: Partial<ConnEventInit> = {}): ConnEventInit {
  return {
    seq,
    kind: EventKind.EVENT_KIND_STATE_CHANGE,
    tsNs: FAR_NS + BigInt(timeUs) * 1000n + BigInt(seq),
    timeUs,
    sock: `ffff${seq.toString(16)}`,
    local: { ip: "10.0.0.1", port: 1000 + seq },
    remote: { ip: "10.0.0.2", port: 80 },
    oldState: S.TCP_STATE_CLOSE,
    newState: S.TCP_STATE_SYN_SENT,
    ...o,
  };
}
const run = (from: number, n: number, t0: number, stepUs = 10): ConnEventInit[] =>
  Array.from({ length: n }, (_, i) => ev(from + i, t0 + i * stepUs));

const ws = storeForEachTest("event-ring");

interface BatchRow {
  stream_id: number;
  first_seq: number;
  last_seq: number;
  first_us: number;
  last_us: number;
  first_ns: bigint;
  last_ns: bigint;
  count: number;
}
/** The rows as the file holds them, read by a second connection (WAL), integers exact. */
function rows(): BatchRow[] {
  const db = new Database(join(ws.dir, DEFAULT_DB_NAME), { readonly: true });
  try {
    const st = db.prepare(
      "SELECT stream_id, first_seq, last_seq, first_us, last_us, first_ns, last_ns, count FROM event_batches ORDER BY stream_id, first_seq",
    );
    st.safeIntegers(true);
    return (st.all() as Record<string, bigint>[]).map((r) => ({
      stream_id: Number(r.stream_id),
      first_seq: Number(r.first_seq),
      last_seq: Number(r.last_seq),
      first_us: Number(r.first_us),
      last_us: Number(r.last_us),
      first_ns: r.first_ns!,
      last_ns: r.last_ns!,
      count: Number(r.count),
    }));
  } finally {
    db.close();
  }
}

async function collect(it: AsyncIterable<ReplayBatch>): Promise<ReplayBatch[]> {
  const out: ReplayBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}

describe("putEvents", () => {
  it("writes one row per batch with its seq range, earliest/latest times and exact kernel ns", async () => {
    const batch = run(1, 1000, 5_000_000);
    // An event the agent released late: last in seq order, earliest in time.
    batch.push(ev(1001, 4_999_000));
    expect(await ws.store.putEvents(src, batch)).toEqual({ written: 1001, duplicates: 0 });
    const r = rows();
    expect(r).toHaveLength(1);
    expect(r[0]).toMatchObject({ first_seq: 1, last_seq: 1001, count: 1001, first_us: 4_999_000, last_us: 5_000_000 + 999 * 10 });
    expect(r[0]!.first_ns).toBe(batch[1000]!.tsNs);
    expect(r[0]!.last_ns).toBe(batch[999]!.tsNs);
    expect(r[0]!.first_ns > BigInt(Number.MAX_SAFE_INTEGER)).toBe(true);
    expect((await ws.store.stats()).events).toBe(1001);
  });

  it("counts a re-delivered batch, a part of it and a repeated seq as duplicates, and stores only what is new", async () => {
    const first = run(1, 10, 1_000_000);
    expect(await ws.store.putEvents(src, first)).toEqual({ written: 10, duplicates: 0 });
    expect(await ws.store.putEvents(src, first)).toEqual({ written: 0, duplicates: 10 });
    // The consumer re-delivers a batch minus what it already saw, or with more after it.
    expect(await ws.store.putEvents(src, first.slice(4))).toEqual({ written: 0, duplicates: 6 });
    const more = run(8, 10, 1_000_070); // seqs 8..17: 8..10 stored
    expect(await ws.store.putEvents(src, [...more, more[0]!])).toEqual({ written: 7, duplicates: 4 });
    // Around a stored range: the new events become two rows, neither overlapping it.
    await ws.store.putEvents(src, run(30, 5, 1_000_300));
    expect(await ws.store.putEvents(src, run(25, 15, 1_000_250))).toEqual({ written: 10, duplicates: 5 });
    expect(rows().map((r) => [r.first_seq, r.last_seq])).toEqual([
      [1, 10],
      [11, 17],
      [25, 29],
      [30, 34],
      [35, 39],
    ]);
    const replayed = (await collect(ws.store.replayEvents({ sinceUs: 0 }))).flatMap((b) => b.events.map((e) => e.seq));
    expect(replayed).toEqual([...Array.from({ length: 17 }, (_, i) => i + 1), ...Array.from({ length: 15 }, (_, i) => i + 25)]);
    expect((await ws.store.stats()).events).toBe(32);
  });

  it("splits a batch wider than MAX_ROW_SPAN_US into rows that are not", async () => {
    // Kernel time moves with wall time here: both spans are exactly at the bound, then past it.
    const at = (seq: number, t: number) => ev(seq, t, { tsNs: FAR_NS + BigInt(t) * 1000n });
    const wide = [at(1, 1_000_000), at(2, 1_000_000 + MAX_ROW_SPAN_US), at(3, 1_000_001 + MAX_ROW_SPAN_US), at(4, 1_000_000 + 3 * MAX_ROW_SPAN_US)];
    expect(await ws.store.putEvents(src, wide)).toEqual({ written: 4, duplicates: 0 });
    const r = rows();
    expect(r.map((x) => [x.first_seq, x.last_seq])).toEqual([
      [1, 2],
      [3, 3],
      [4, 4],
    ]);
    for (const x of r) expect(x.last_us - x.first_us).toBeLessThanOrEqual(MAX_ROW_SPAN_US);
  });
});

describe("replayEvents from batch rows", () => {
  it("merges overlapping batches of two nodes into time order, skipping what is before sinceUs inside a row", async () => {
    // n1's batches interleave with n2's in time; enough rows to need several pages.
    const written: ConnEventInit[] = [];
    for (let b = 0; b < 100; b++) {
      const mine = run(1 + b * 10, 10, 1_000_000 + b * 100, 10);
      const theirs = run(1 + b * 10, 10, 1_000_005 + b * 100, 10);
      await ws.store.putEvents(src, mine);
      await ws.store.putEvents(other, theirs);
      written.push(...mine, ...theirs);
    }
    const sinceUs = 1_000_000 + 50 * 100 + 33; // inside a row of each node
    const batches = await collect(ws.store.replayEvents({ sinceUs, batchSize: 7 }));
    const flat = batches.flatMap((b) => b.events.map((e) => ({ node: b.source.node, t: e.timeUs, seq: e.seq, ns: e.tsNs })));
    expect(flat[0]!.t).toBeGreaterThanOrEqual(sinceUs);
    expect(flat.every((e, i) => i === 0 || e.t >= flat[i - 1]!.t)).toBe(true);
    expect(flat.length).toBe(written.filter((e) => e.timeUs! >= sinceUs).length);
    expect(Math.max(...batches.map((b) => b.events.length))).toBeLessThanOrEqual(7);
    // Every batch is one source's; kernel times come back exact.
    for (const b of batches) expect(new Set(b.events.map((e) => e.timeUs % 10)).size).toBe(1);
    const firstOfN1 = flat.find((e) => e.node === "n1")!;
    expect(firstOfN1.ns).toBe(ev(firstOfN1.seq, firstOfN1.t).tsNs);
  });
});

describe("event retention", () => {
  it("deletes whole rows by age, oldest first, and remembers how far it cut", async () => {
    const now = Date.now() * 1000;
    const old = now - 30 * 60e6;
    await ws.store.putEvents(src, run(1, 100, old));
    await ws.store.putEvents(src, run(101, 100, now - 60e6));
    const r = await ws.store.retention({ eventsMaxAgeMs: 15 * 60e3 });
    expect(r.deletedEvents).toBe(100);
    const s = await ws.store.stats();
    expect(s.kinds.events).toMatchObject({ count: 100, oldestUs: now - 60e6 });
    expect(Number(await ws.store.getMeta(EVENTS_HORIZON_KEY))).toBe(old + 99 * 10);
  });

  it("deletes the oldest rows until bodies and row overhead fit eventsMaxBytes; stats count the same bytes", async () => {
    const now = Date.now() * 1000;
    for (let b = 0; b < 50; b++) await ws.store.putEvents(src, run(1 + b * 200, 200, now - 60e6 + b * 10_000));
    const before = (await ws.store.stats()).kinds.events;
    expect(before.count).toBe(10_000);
    // A row's body is the transport's encoding of its events (deflated), its filter a Bloom filter
    // of their sockets and endpoints: stats count exactly those plus the overhead.
    const bodyBytes = Array.from({ length: 50 }, (_, b) => {
      const events = run(1 + b * 200, 200, now - 60e6 + b * 10_000);
      return packBody(encodeBatch(src, events)).length + buildBloom(rowFilterKeys(events)).length;
    });
    expect(before.bytes).toBe(bodyBytes.reduce((a, n) => a + n, 0) + 50 * ROW_OVERHEAD_BYTES);
    const limit = Math.floor(before.bytes * 0.4);
    const r = await ws.store.retention({ eventsMaxBytes: limit });
    const after = (await ws.store.stats()).kinds.events;
    expect(after.bytes).toBeLessThanOrEqual(limit);
    expect(r.deletedEvents).toBe(before.count - after.count);
    // Oldest first: what is left is the newest rows, contiguous.
    const left = rows();
    // Not more than needed: keeping the newest deleted row would not have fit.
    const newestDeleted = 50 - left.length - 1;
    expect(after.bytes + bodyBytes[newestDeleted]! + ROW_OVERHEAD_BYTES).toBeGreaterThan(limit);
    expect(left[left.length - 1]!.last_seq).toBe(10_000);
    expect(left[0]!.first_seq).toBe(10_000 - after.count + 1);
  });

  it("leaves a file within 5% of eventsMaxBytes after a run (freed pages given back, WAL truncated)", async () => {
    const now = Date.now() * 1000;
    // Random socket addresses and ports compress poorly: a ring of ~2.8 MB in 80 batches of 1000.
    const rand = (n: number) => Math.floor(Math.random() * n);
    for (let b = 0; b < 80; b++) {
      const batch = Array.from({ length: 1000 }, (_, i) =>
        ev(1 + b * 1000 + i, now - 60e6 + b * 1000 + i, {
          sock: `ffff${rand(2 ** 32).toString(16)}${rand(2 ** 16).toString(16)}`,
          local: { ip: `10.${rand(256)}.${rand(256)}.${rand(256)}`, port: 1 + rand(65_535) },
        }),
      );
      await ws.store.putEvents(src, batch);
    }
    const before = await ws.store.stats();
    expect(before.kinds.events.bytes).toBeGreaterThan(2 * 1024 * 1024);
    const limit = 1024 * 1024;
    await ws.store.retention({ eventsMaxBytes: limit });
    const after = await ws.store.stats();
    expect(after.kinds.events.bytes).toBeLessThanOrEqual(limit);
    // The file holds the ring (as counted) and a few pages of schema, streams and meta; no WAL left.
    expect(after.fileBytes).toBeLessThanOrEqual(limit * 1.05 + 64 * 1024);
    expect(after.fileBytes).toBeLessThan(before.fileBytes / 2);
  });

  it("reports the file and its WAL on disk", async () => {
    await ws.store.putEvents(src, run(1, 100, 1_000_000));
    const s = await ws.store.stats();
    expect(s.fileBytes).toBeGreaterThanOrEqual(s.bytes);
  });
});

describe("reading the ring for a timeline", () => {
  it("decodes only the rows that may hold a tuple, even when one end is in every row", async () => {
    // 200 rows, each a connection from a new client port to the same server endpoint.
    for (let i = 0; i < 200; i++) {
      const e = ev(i + 1, 1_000_000 + i * 1000, { local: { ip: "10.0.0.9", port: 8080 }, remote: { ip: "10.0.0.1", port: 30_000 + i } });
      await ws.store.putEvents(src, [e]);
    }
    const db = openDatabase(join(ws.dir, DEFAULT_DB_NAME), 1000);
    try {
      const ring = new EventRing(new PreparedStatements(db));
      const rows = tupleEvents(ring, { aIp: "10.0.0.9", aPort: 8080, bIp: "10.0.0.1", bPort: 30_123, from: 0, to: 2_000_000 });
      expect(rows.map((r) => r.event.seq)).toEqual([124]);
      expect(ring.decodedRows).toBeLessThanOrEqual(2);
      expect(ring.cut).toBe(false);
    } finally {
      db.close();
    }
  });
});

describe("needles", () => {
  it("every event's socket and endpoints appear in its encoded batch as the needles spell them", () => {
    const ports = [1, 127, 128, 16_383, 16_384, 65_535];
    const events = ports.flatMap((port, i) => [
      ev(2 * i + 1, 10, { sock: "ffff888100a0b0c0", local: { ip: "10.0.0.1", port }, remote: { ip: "fd00::1", port: 80 } }),
      ev(2 * i + 2, 11, { sock: "", local: { ip: "127.0.0.6", port: 0 }, remote: { ip: "10.0.0.9", port } }),
    ]);
    const body = Buffer.from(encodeBatch(src, events));
    for (const e of events) {
      if (e.sock) expect(body.includes(sockNeedle(e.sock))).toBe(true);
      for (const ep of [e.local!, e.remote!]) {
        expect(body.includes(endpointNeedle(ep.ip!, ep.port!))).toBe(true);
        expect(body.includes(endpointNeedle(ep.ip!))).toBe(true);
      }
    }
    expect(body.includes(endpointNeedle("10.0.0.1", 1000))).toBe(false);
    expect(body.includes(sockNeedle("ffff888100a0b0c1"))).toBe(false);
  });
});
