// The TraceStore contract as behaviour: every case here runs against every
// implementation (SQLite: test/store/sqlite-conformance.test.ts, PostgreSQL:
// test/store/postgres/conformance.test.ts), so "same semantics" is checked,
// not promised. Implementation internals (SQLite's blocks, ring rows, file
// migrations) are tested next to their implementation, not here.
import { beforeEach, describe, expect, it } from "vitest";
import { v1, EventKind, Outcome, ResetReason, Role, TcpState, parseSocketId, type ConnEventInit, type Trace } from "../../src/model/mod.js";
import { isBadQueryError, isStoreClosedError, type EventSource, type ReplayBatch, type StoredEvent } from "../../src/store/mod.js";
import { A, B, NODE, meshTrace, resetSent, sockOf, socketIdOf, stateEvent } from "./fixtures.js";
import type { TraceStoreWorkspace } from "./workspace.js";
import { scenarioKeepaliveRace } from "../trace/helpers/pooled.js";
import { stitch } from "../trace/helpers/stitch.js";

const S = TcpState;
const source: EventSource = { node: NODE, bootId: "boot-1", agentStartUs: 1_700_000_000_000_000 };
const ids = (traces: { traceId: string }[]) => traces.map((t) => t.traceId);

// replayEvents and lookups
const srcA: EventSource = { node: "a", bootId: "boot", agentStartUs: 1 };
const srcB: EventSource = { node: "b", bootId: "boot", agentStartUs: 2 };
function ev(seq: number, timeUs: number): ConnEventInit {
  return {
    seq,
    kind: 1,
    tsNs: BigInt(timeUs) * 1000n,
    timeUs,
    sock: `ffff${seq.toString(16)}`,
    local: { ip: "10.0.0.1", port: 1000 + seq },
    remote: { ip: "10.0.0.2", port: 80 },
    oldState: S.TCP_STATE_CLOSE,
    newState: S.TCP_STATE_SYN_SENT,
  };
}

async function collect(it: AsyncIterable<ReplayBatch>): Promise<ReplayBatch[]> {
  const out: ReplayBatch[] = [];
  for await (const b of it) out.push(b);
  return out;
}


// timelines from the ring / with retention
const ringSource: EventSource = { node: NODE, bootId: "boot-1", agentStartUs: 1 };

const MIN_US = 60e6;
const line = (events: StoredEvent[]) =>
  events.map(({ event: e }) => `${e.sock}:${EventKind[e.kind]}:${S[e.oldState]}>${S[e.newState]}:${ResetReason[e.resetReason]}`);

/** Hop 3 of meshTrace k (127.0.0.6:30000+k → B:8080, reset by the app), its two sockets' raw events. */
function hop3Events(k: number, startUs: number): ConnEventInit[] {
  const cli: [string, number] = ["127.0.0.6", 30000 + k];
  const srv: [string, number] = [B, 8080];
  const c = parseSocketId(socketIdOf(k, 5, startUs))!;
  const s = parseSocketId(socketIdOf(k, 6, startUs))!;
  const at = (birth: bigint, us: number) => Number(birth) + us * 1000;
  return [
    stateEvent({ sock: c.sock, tNs: at(c.birthNs, 200), local: cli, remote: srv, from: S.TCP_STATE_CLOSE, to: S.TCP_STATE_SYN_SENT }),
    stateEvent({ sock: s.sock, tNs: at(s.birthNs, 240), local: srv, remote: cli, from: S.TCP_STATE_LISTEN, to: S.TCP_STATE_SYN_RECV }),
    stateEvent({ sock: c.sock, tNs: at(c.birthNs, 11_900), local: cli, remote: srv, from: S.TCP_STATE_ESTABLISHED, to: S.TCP_STATE_CLOSE }),
  ].map((e) => ({ ...e, timeUs: startUs + Math.floor(Number(e.tsNs - BigInt(Number(c.birthNs))) / 1000) }));
}

// timelines by socket identity
const T0_NS = 7_000_000_000_000; // kernel ns; wall µs = ns / 1000 in the fixtures
const CLIENT_PORT = 40_000;
const SERVER: [string, number] = [B, 8080];

/** One connection A:port → B:8080 born at `t` ns: client and server socket, 3 events each, server resets. */
function connection(csock: string, ssock: string, t: number, port: number) {
  const cli: [string, number] = [A, port];
  return {
    client: `${NODE}/${csock}/${t}`,
    server: `${NODE}/${ssock}/${t + 40_000}`,
    events: [
      // As the kernel reports it: no local port yet when the SYN_SENT state is set.
      stateEvent({ sock: csock, tNs: t, local: [A, 0], remote: SERVER, from: S.TCP_STATE_CLOSE, to: S.TCP_STATE_SYN_SENT }),
      stateEvent({ sock: ssock, tNs: t + 40_000, local: SERVER, remote: cli, from: S.TCP_STATE_LISTEN, to: S.TCP_STATE_SYN_RECV }),
      stateEvent({ sock: csock, tNs: t + 80_000, local: cli, remote: SERVER, from: S.TCP_STATE_SYN_SENT, to: S.TCP_STATE_ESTABLISHED }),
      stateEvent({ sock: ssock, tNs: t + 90_000, local: SERVER, remote: cli, from: S.TCP_STATE_SYN_RECV, to: S.TCP_STATE_ESTABLISHED }),
      resetSent({ sock: ssock, tNs: t + 2_000_000, local: SERVER, remote: cli, reason: ResetReason.RESET_REASON_TCP_ABORT_ON_CLOSE }),
      stateEvent({ sock: csock, tNs: t + 2_100_000, local: cli, remote: SERVER, from: S.TCP_STATE_ESTABLISHED, to: S.TCP_STATE_CLOSE }),
    ],
  };
}

function oneHopTrace(id: string, c: { client: string; server: string }, t: number): Trace {
  const us = t / 1000;
  return v1.Trace.create({
    traceId: id,
    outcome: Outcome.OUTCOME_RESET_BY_SERVER,
    startUs: us,
    endUs: us + 2_100,
    hops: [
      {
        index: 1,
        client: { ip: A, port: CLIENT_PORT, role: Role.ROLE_APP, node: NODE, socketId: c.client },
        server: { ip: B, port: 8080, role: Role.ROLE_APP, node: NODE, socketId: c.server },
        outcome: Outcome.OUTCOME_RESET_BY_SERVER,
        resetBy: "server",
        startUs: us,
        endUs: us + 2_100,
      },
    ],
  });
}

/** Every behaviour case of the TraceStore contract, against the store `ws` provides for each test. */
export function traceStoreConformance(ws: TraceStoreWorkspace): void {
  describe("writes", () => {
    it("replaces a trace with the same id instead of duplicating it", async () => {
      const t1 = meshTrace({ id: "t1", startUs: 1_000_000 });
      expect(await ws.store.putTraces([t1])).toEqual({ written: 1, duplicates: 0 });
      const t1b = meshTrace({ id: "t1", startUs: 1_000_000, outcome: Outcome.OUTCOME_COMPLETED });
      t1b.hops.pop();
      expect(await ws.store.putTraces([t1b])).toEqual({ written: 0, duplicates: 1 });
      expect((await ws.store.stats()).traces).toBe(1);
      const got = await ws.store.getTrace("t1");
      expect(got?.outcome).toBe(Outcome.OUTCOME_COMPLETED);
      expect(got?.hops).toHaveLength(2);
      // The dropped hop's rows went with it: its address no longer matches.
      expect(ids((await ws.store.listTraces({ ip: "127.0.0.6" })).traces)).toEqual([]);
      expect(ids((await ws.store.listTraces({ ip: A })).traces)).toEqual(["t1"]);
    });

    it("returns exactly the trace that was written", async () => {
      const t = meshTrace({ id: "exact", startUs: 2_000_000 });
      await ws.store.putTraces([t]);
      const got = await ws.store.getTrace("exact");
      expect(got).not.toBeNull();
      expect(Buffer.from(v1.Trace.encode(got!).finish())).toEqual(Buffer.from(v1.Trace.encode(t).finish()));
      expect(typeof got!.startUs).toBe("number");
      expect(got!.startUs).toBe(2_000_000);
      expect(await ws.store.getTrace("nope")).toBeNull();
    });

    it("keeps a trace's shared hops and race facts, before and after compaction", async () => {
      const traces = stitch(scenarioKeepaliveRace().p.lab.records).traces;
      const race = traces.find((t) => t.outcome === Outcome.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE)!;
      expect(race.race?.idleUs).toBeGreaterThan(0);
      expect(race.hops.some((h) => h.shared && h.useStartUs && h.linkConfidence)).toBe(true);
      await ws.store.putTraces(traces);
      const bytes = (t: Trace | null) => Buffer.from(v1.Trace.encode(t!).finish());
      expect(bytes(await ws.store.getTrace(race.traceId))).toEqual(bytes(race));
      await ws.compact();
      expect(bytes(await ws.store.getTrace(race.traceId))).toEqual(bytes(race));
      const listed = await ws.store.listTraces({ outcome: [Outcome.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE] });
      expect(listed.traces.map((t) => t.traceId)).toEqual([race.traceId]);
    });

    it("skips re-delivered events and keeps agent restarts apart", async () => {
      const evs = [1, 2, 3].map((n) =>
        stateEvent({ sock: "abc", tNs: n * 1000, local: [A, 1], remote: [B, 2], from: S.TCP_STATE_CLOSE, to: S.TCP_STATE_SYN_SENT }),
      );
      expect(await ws.store.putEvents(source, evs)).toEqual({ written: 3, duplicates: 0 });
      expect(await ws.store.putEvents(source, evs.slice(1))).toEqual({ written: 0, duplicates: 2 });
      // A restarted agent numbers from 1 again: same seq, different stream.
      const restarted = { ...source, agentStartUs: source.agentStartUs + 1 };
      expect(await ws.store.putEvents(restarted, evs.slice(0, 1))).toEqual({ written: 1, duplicates: 0 });
      expect((await ws.store.stats()).events).toBe(4);
    });

    it("rejects a batch atomically when one event cannot be keyed", async () => {
      const good = stateEvent({ sock: "a", tNs: 1, local: [A, 1], remote: [B, 2], from: S.TCP_STATE_CLOSE, to: S.TCP_STATE_SYN_SENT });
      await expect(ws.store.putEvents(source, [good, { ...good, seq: 0 }])).rejects.toThrow(/seq/);
      expect((await ws.store.stats()).events).toBe(0);
    });
  });

  describe("listTraces", () => {
    beforeEach(async () => {
      await ws.store.putTraces([
        meshTrace({ id: "a", k: 1, startUs: 1_000_000, podA: "web", podB: "api" }),
        meshTrace({ id: "b", k: 2, startUs: 2_000_000, podA: "web", podB: "db", outcome: Outcome.OUTCOME_COMPLETED }),
        meshTrace({ id: "c", k: 3, startUs: 3_000_000, podA: "cron", podB: "api", originRole: Role.ROLE_SIDECAR }),
        meshTrace({ id: "d", k: 4, startUs: 4_000_000, podA: "cron", podB: "db", outcome: Outcome.OUTCOME_REFUSED }),
      ]);
    });

    it("lists newest first", async () => {
      expect(ids((await ws.store.listTraces()).traces)).toEqual(["d", "c", "b", "a"]);
    });

    it("filters by time window overlap", async () => {
      // Each trace lasts 12.4 ms, so since=2.005 s still catches b.
      expect(ids((await ws.store.listTraces({ since: 2_005_000, until: 3_000_000 })).traces)).toEqual(["c", "b"]);
      expect(ids((await ws.store.listTraces({ since: 3_500_000 })).traces)).toEqual(["d"]);
    });

    it("filters by pod on either side of any hop", async () => {
      expect(ids((await ws.store.listTraces({ pod: "api" })).traces)).toEqual(["c", "a"]);
      expect(ids((await ws.store.listTraces({ pod: "web" })).traces)).toEqual(["b", "a"]);
      expect(ids((await ws.store.listTraces({ pod: "none" })).traces)).toEqual([]);
    });

    it("filters by address, port, and both on the same endpoint", async () => {
      expect(ids((await ws.store.listTraces({ ip: A, port: 40002 })).traces)).toEqual(["b"]);
      expect(ids((await ws.store.listTraces({ port: 30003 })).traces)).toEqual(["c"]);
      expect(ids((await ws.store.listTraces({ ip: B })).traces)).toEqual(["d", "c", "b", "a"]);
      // 127.0.0.6 exists and port 40002 exists, but not on one endpoint.
      expect(ids((await ws.store.listTraces({ ip: "127.0.0.6", port: 40002 })).traces)).toEqual([]);
    });

    it("filters by outcome and by the role where the failure began", async () => {
      expect(ids((await ws.store.listTraces({ outcome: Outcome.OUTCOME_REFUSED })).traces)).toEqual(["d"]);
      expect(
        ids((await ws.store.listTraces({ outcome: [Outcome.OUTCOME_COMPLETED, Outcome.OUTCOME_REFUSED] })).traces),
      ).toEqual(["d", "b"]);
      expect(ids((await ws.store.listTraces({ role: Role.ROLE_SIDECAR })).traces)).toEqual(["c"]);
      expect(ids((await ws.store.listTraces({ role: Role.ROLE_APP, pod: "db" })).traces)).toEqual(["d", "b"]);
    });

    it("pages with a cursor without skipping or repeating", async () => {
      const p1 = await ws.store.listTraces({ limit: 3 });
      expect(ids(p1.traces)).toEqual(["d", "c", "b"]);
      expect(p1.nextCursor).not.toBeNull();
      const p2 = await ws.store.listTraces({ limit: 3, cursor: p1.nextCursor! });
      expect(ids(p2.traces)).toEqual(["a"]);
      expect(p2.nextCursor).toBeNull();
    });

    it("rejects a malformed cursor and an out-of-range limit", async () => {
      await expect(ws.store.listTraces({ cursor: "garbage" })).rejects.toSatisfy(isBadQueryError);
      await expect(ws.store.listTraces({ limit: 0 })).rejects.toSatisfy(isBadQueryError);
      await expect(ws.store.listTraces({ limit: 1001 })).rejects.toSatisfy(isBadQueryError);
    });
  });

  describe("timeline", () => {
    // Hop 3 of trace k=5: sidecar B 127.0.0.6:30005 -> app B 10.88.0.3:8080, reset by the app.
    const t0 = 5_000_000;
    const k = 5;
    const s5 = sockOf(k, 5);
    const s6 = sockOf(k, 6);
    const cli: [string, number] = ["127.0.0.6", 30000 + k];
    const srv: [string, number] = [B, 8080];
    const birth5 = t0 * 1000 + 5;
    const birth6 = t0 * 1000 + 6;

    beforeEach(async () => {
      await ws.store.putEvents(source, [
        stateEvent({ sock: s5, tNs: birth5, local: cli, remote: srv, from: S.TCP_STATE_CLOSE, to: S.TCP_STATE_SYN_SENT }),
        // A socket id's birth is its birth event's kernel time (src/trace/socket-registry.ts).
        stateEvent({ sock: s6, tNs: birth6, local: srv, remote: cli, from: S.TCP_STATE_LISTEN, to: S.TCP_STATE_SYN_RECV }),
        stateEvent({ sock: s5, tNs: birth5 + 100_000, local: cli, remote: srv, from: S.TCP_STATE_SYN_SENT, to: S.TCP_STATE_ESTABLISHED }),
        resetSent({ sock: s6, tNs: birth6 + 9_000_000, local: srv, remote: cli, reason: ResetReason.RESET_REASON_TCP_ABORT_ON_CLOSE }),
        stateEvent({ sock: s5, tNs: birth5 + 9_100_000, local: cli, remote: srv, from: S.TCP_STATE_ESTABLISHED, to: S.TCP_STATE_CLOSE }),
        // The same struct sock reused 10 s later for an unrelated connection.
        stateEvent({ sock: s5, tNs: birth5 + 10e9, local: [A, 1234], remote: [B, 9999], from: S.TCP_STATE_CLOSE, to: S.TCP_STATE_SYN_SENT }),
        // Unrelated traffic in the same window.
        stateEvent({ sock: "dead", tNs: birth5 + 1000, local: [A, 1], remote: [B, 2], from: S.TCP_STATE_CLOSE, to: S.TCP_STATE_SYN_SENT }),
      ]);
    });

    const kinds = (tl: { events: { event: { sock: string; newState: number } }[] }) =>
      tl.events.map((e) => `${e.event.sock}:${e.event.newState}`);

    it("shows both ends of a connection by one endpoint, in time order", async () => {
      const tl = await ws.store.timeline({ ip: cli[0], port: cli[1] });
      expect(kinds(tl)).toEqual([
        `${s5}:${S.TCP_STATE_SYN_SENT}`,
        `${s6}:${S.TCP_STATE_SYN_RECV}`,
        `${s5}:${S.TCP_STATE_ESTABLISHED}`,
        `${s6}:0`,
        `${s5}:${S.TCP_STATE_CLOSE}`,
      ]);
      expect(tl.events.every((e) => e.node === NODE)).toBe(true);
      expect(tl.truncated).toBe(false);
      expect(await ws.store.timeline({ ip: cli[0], port: cli[1], limit: 2 })).toMatchObject({ truncated: true });
    });

    it("follows a socket id to its own events and its peer's, not the reused pointer", async () => {
      const tl = await ws.store.timeline({ socketId: `${NODE}/${s5}/${birth5}` });
      expect(kinds(tl)).toHaveLength(5);
      expect(tl.events.some((e) => e.event.remote?.port === 9999)).toBe(false);
      expect(tl.traces).toEqual([]);
      const reused = await ws.store.timeline({ socketId: `${NODE}/${s5}/${birth5 + 10e9}` });
      expect(reused.events.map((e) => e.event.remote?.port)).toEqual([9999]);
    });

    it("returns every event of a trace's hops and the trace itself", async () => {
      await ws.store.putTraces([meshTrace({ id: "tk", k, startUs: t0 })]);
      expect(socketIdOf(k, 5, t0)).toBe(`${NODE}/${s5}/${birth5}`);
      const tl = await ws.store.timeline({ traceId: "tk" });
      expect(kinds(tl)).toHaveLength(5);
      expect(ids(tl.traces)).toEqual(["tk"]);
      const bySocket = await ws.store.timeline({ socketId: socketIdOf(k, 6, t0) });
      expect(ids(bySocket.traces)).toEqual(["tk"]);
      expect(kinds(bySocket)).toHaveLength(5);
    });

    it("rejects a timeline without a connection and a malformed socket id", async () => {
      await expect(ws.store.timeline({})).rejects.toSatisfy(isBadQueryError);
      await expect(ws.store.timeline({ socketId: "not-a-socket" })).rejects.toSatisfy(isBadQueryError);
    });
  });

  describe("retention", () => {
    it("deletes by age, oldest first, and keeps recent data", async () => {
      const now = Date.now() * 1000;
      const old = now - 3 * 3600e6;
      await ws.store.putTraces([meshTrace({ id: "old", k: 1, startUs: old }), meshTrace({ id: "new", k: 2, startUs: now })]);
      await ws.store.putEvents(source, [
        stateEvent({ sock: "1", tNs: old * 1000, local: [A, 1], remote: [B, 2], from: S.TCP_STATE_CLOSE, to: S.TCP_STATE_SYN_SENT }),
        stateEvent({ sock: "2", tNs: now * 1000, local: [A, 3], remote: [B, 4], from: S.TCP_STATE_CLOSE, to: S.TCP_STATE_SYN_SENT }),
      ]);
      const r = await ws.store.retention({ maxAgeMs: 3600e3 });
      expect(r).toMatchObject({ deletedTraces: 1, deletedEvents: 1 });
      expect(ids((await ws.store.listTraces()).traces)).toEqual(["new"]);
      expect(await ws.store.getTrace("old")).toBeNull();
      expect((await ws.store.stats()).events).toBe(1);
      // Its hops went too: no trace matches the old trace's client port.
      expect(ids((await ws.store.listTraces({ port: 40001 })).traces)).toEqual([]);
    });

    it("deletes the oldest traces until the traces' bytes fit maxBytes, and leaves raw events to their own limits", async () => {
      const now = Date.now() * 1000;
      for (let batch = 0; batch < 10; batch++) {
        const traces = [];
        const events = [];
        for (let i = 0; i < 200; i++) {
          const n = batch * 200 + i;
          traces.push(meshTrace({ id: `t${String(n).padStart(5, "0")}`, k: n, startUs: now - 1e9 + n * 1000 }));
          const tNs = (now - 1e9 + n * 1000) * 1000;
          events.push(stateEvent({ sock: sockOf(n, 1), tNs, local: [A, n], remote: [B, 8080], from: S.TCP_STATE_CLOSE, to: S.TCP_STATE_SYN_SENT }));
        }
        await ws.store.putTraces(traces);
        await ws.store.putEvents(source, events);
      }
      const before = await ws.store.stats();
      const maxBytes = Math.floor(before.kinds.traces.bytes / 2);
      // The events are ~17 min old: past the ring's default age, so keep them by age here.
      const r = await ws.store.retention({ maxBytes, eventsMaxAgeMs: 3600e3 });
      const after = await ws.store.stats();
      expect(after.kinds.traces.bytes).toBeLessThanOrEqual(maxBytes);
      expect(r.deletedTraces).toBe(before.traces - after.traces);
      expect(after.traces).toBeGreaterThan(0);
      expect(after.traces).toBeLessThan(before.traces);
      // Each kind is cut by its own limits (RetentionPolicy): the traces' limit leaves the event ring alone.
      expect(after.events).toBe(before.events);
      // Oldest first: the newest trace survives, the oldest does not, and what is left is contiguous.
      expect(await ws.store.getTrace("t01999")).not.toBeNull();
      expect(await ws.store.getTrace("t00000")).toBeNull();
      const left = ids((await ws.store.listTraces({ limit: 1000 })).traces);
      const n = after.traces;
      expect(left.slice(0, Math.min(n, 1000))).toEqual(
        Array.from({ length: Math.min(n, 1000) }, (_, i) => `t${String(1999 - i).padStart(5, "0")}`),
      );
    });
  });

  describe("lifecycle", () => {
    it("refuses use after close", async () => {
      await ws.store.close();
      await expect(ws.store.listTraces()).rejects.toSatisfy(isStoreClosedError);
      await ws.store.close();
    });
  });

  describe("replayEvents", () => {
    it("returns events at or after sinceUs in time order, batched per source run", async () => {
      // a: seq 1..4 at t=10,20,30,40; b: seq 1..2 at t=25,35
      await ws.store.putEvents(srcA, [ev(1, 10), ev(2, 20), ev(3, 30), ev(4, 40)]);
      await ws.store.putEvents(srcB, [ev(1, 25), ev(2, 35)]);
      const batches = await collect(ws.store.replayEvents({ sinceUs: 20 }));
      const flat = batches.map((b) => `${b.source.node}:${b.events.map((e) => e.seq).join(",")}`);
      expect(flat).toEqual(["a:2", "b:1", "a:3", "b:2", "a:4"]);
      expect(batches[0]!.source).toEqual(srcA);
      expect(batches[0]!.events[0]!.tsNs).toBe(20_000n); // exact kernel ns, from the row
    });

    it("cuts batches at batchSize and pages through more rows than one page holds", async () => {
      const events = Array.from({ length: 12_345 }, (_, i) => ev(i + 1, 1_000 + i));
      for (let i = 0; i < events.length; i += 1000) await ws.store.putEvents(srcA, events.slice(i, i + 1000));
      const batches = await collect(ws.store.replayEvents({ sinceUs: 1_000 + 100, batchSize: 700 }));
      const seqs = batches.flatMap((b) => b.events.map((e) => e.seq));
      expect(seqs.length).toBe(12_345 - 100);
      expect(seqs[0]).toBe(101);
      expect(seqs.every((s, i) => i === 0 || s === seqs[i - 1]! + 1)).toBe(true);
      expect(Math.max(...batches.map((b) => b.events.length))).toBe(700);
    });

    it("tolerates writes between batches (no open cursor holds the connection)", async () => {
      await ws.store.putEvents(srcA, [ev(1, 10), ev(2, 20)]);
      await ws.store.putEvents(srcB, [ev(1, 15)]);
      let n = 0;
      for await (const b of ws.store.replayEvents({ sinceUs: 0 })) {
        n += b.events.length;
        await ws.store.putTraces([meshTrace({ id: `t${n}`, startUs: 1_000_000 + n, k: n })]);
      }
      expect(n).toBe(3);
      expect((await ws.store.stats()).traces).toBe(3);
    });
  });

  describe("trace and socket lookups", () => {
    it("existingTraceIds returns only stored ids; tracesOfSockets maps hop sockets to their trace", async () => {
      await ws.store.putTraces([meshTrace({ id: "t1", startUs: 5_000_000, k: 1 })]);
      expect(await ws.store.existingTraceIds(["t1", "nope"])).toEqual(new Set(["t1"]));
      const client = socketIdOf(1, 1, 5_000_000);
      const server = socketIdOf(1, 6, 5_000_000);
      const found = await ws.store.tracesOfSockets([client, server, "n1/ffff/1", ""]);
      expect(found.get(client)).toBe("t1");
      expect(found.get(server)).toBe("t1");
      expect(found.has("n1/ffff/1")).toBe(false);
    });
  });

  describe("meta rows", () => {
    it("set, replace and read back a value; survive reopening", async () => {
      expect(await ws.store.getMeta("k")).toBeNull();
      await ws.store.setMeta("k", "1");
      await ws.store.setMeta("k", "2");
      expect(await ws.store.getMeta("k")).toBe("2");
      await ws.reopen();
      expect(await ws.store.getMeta("k")).toBe("2");
    });
  });

  describe("a timeline whose raw events retention cut", () => {
    it("rebuilds every socket's open, first FIN or reset with its reason, and close from the hops, marked summarized", async () => {
      const now = Date.now() * 1000;
      const t = now - 30 * MIN_US; // older than the ring (15 min), well within the traces' day
      const trace = meshTrace({ id: "cut", k: 1, startUs: t });
      await ws.store.putTraces([trace]);
      await ws.store.putEvents(ringSource, hop3Events(1, t));
      const before = await ws.store.timeline({ traceId: "cut" });
      expect(before.summarized).toBe(false);
      expect(before.events.map((e) => e.event.seq).every((s) => s > 0)).toBe(true);

      const r = await ws.store.retention({});
      expect(r.deletedEvents).toBe(3);
      const tl = await ws.store.timeline({ traceId: "cut" });
      expect(tl.summarized).toBe(true);
      expect(tl.traces.map((x) => x.traceId)).toEqual(["cut"]);
      // 3 hops x 2 sockets x (open, end, close), every one built from the hop.
      expect(tl.events).toHaveLength(18);
      expect(tl.events.every((e) => e.event.seq === 0 && e.node === NODE && !e.event.process)).toBe(true);
      const bySock = (n: number) => tl.events.filter((e) => e.event.sock === sockOf(1, n));
      // Hop 1: the app opened (SYN_SENT), its sidecar listener took it (SYN_RECV), the server side sent the first FIN.
      expect(line(bySock(1))).toEqual([
        `${sockOf(1, 1)}:EVENT_KIND_STATE_CHANGE:TCP_STATE_CLOSE>TCP_STATE_SYN_SENT:RESET_REASON_UNSPECIFIED`,
        `${sockOf(1, 1)}:EVENT_KIND_STATE_CHANGE:TCP_STATE_ESTABLISHED>TCP_STATE_CLOSE_WAIT:RESET_REASON_UNSPECIFIED`,
        `${sockOf(1, 1)}:EVENT_KIND_STATE_CHANGE:TCP_STATE_CLOSE_WAIT>TCP_STATE_CLOSE:RESET_REASON_UNSPECIFIED`,
      ]);
      expect(line(bySock(2))[1]).toBe(`${sockOf(1, 2)}:EVENT_KIND_STATE_CHANGE:TCP_STATE_ESTABLISHED>TCP_STATE_FIN_WAIT1:RESET_REASON_UNSPECIFIED`);
      // Hop 3: the app reset it, with the kernel's reason; the sidecar received the RST.
      expect(line(bySock(6))[1]).toBe(`${sockOf(1, 6)}:EVENT_KIND_RESET_SENT:TCP_STATE_ESTABLISHED>TCP_STATE_UNSPECIFIED:RESET_REASON_TCP_ABORT_ON_CLOSE`);
      expect(line(bySock(5))[1]).toBe(`${sockOf(1, 5)}:EVENT_KIND_RESET_RECEIVED:TCP_STATE_ESTABLISHED>TCP_STATE_UNSPECIFIED:RESET_REASON_UNSPECIFIED`);
      // Endpoint facts and times come from the hop; the open's kernel time is the socket id's birth.
      const open6 = bySock(6)[0]!.event;
      expect(open6).toMatchObject({ timeUs: t + 200, local: { ip: B, port: 8080 }, remote: { ip: "127.0.0.6", port: 30001 }, pod: "tt-b", uid: 0 });
      expect(open6.tsNs).toBe(parseSocketId(socketIdOf(1, 6, t))!.birthNs);
      expect(bySock(6)[1]!.event.timeUs).toBe(t + 12_000);
      // By socket, the same story for it and its peer.
      const bySocket = await ws.store.timeline({ socketId: socketIdOf(1, 6, t) });
      expect(bySocket.summarized).toBe(true);
      expect(new Set(bySocket.events.map((e) => e.event.sock))).toEqual(new Set([sockOf(1, 5), sockOf(1, 6)]));
      // Bounds still apply to rebuilt events.
      const late = await ws.store.timeline({ traceId: "cut", since: t + 12_300 });
      expect(late.events.map((e) => e.event.timeUs).every((us) => us >= t + 12_300)).toBe(true);
      expect(late.events.length).toBeGreaterThan(0);
    });

    it("puts a rebuilt FIN or RST at the hop's step time when the trace recorded it, the close still at the hop's end", async () => {
      const t = Date.now() * 1000 - 30 * MIN_US;
      const trace = meshTrace({ id: "steps", k: 2, startUs: t });
      const [h1, , h3] = trace.hops;
      h1!.firstFinUs = t + 9_100;
      h3!.resetUs = t + 11_950;
      await ws.store.putTraces([trace]);
      // Stored, then cut by the ring's retention: what makes a timeline rebuilt.
      await ws.store.putEvents(ringSource, hop3Events(2, t));
      expect((await ws.store.retention({})).deletedEvents).toBe(3);
      const tl = await ws.store.timeline({ traceId: "steps" });
      expect(tl.summarized).toBe(true);
      const ofSock = (n: number) => tl.events.filter((e) => e.event.sock === sockOf(2, n)).map((e) => [EventKind[e.event.kind], e.event.timeUs]);
      // The app's RST on hop 3 and its receipt, at the RST's time; both closes at the hop's end.
      expect(ofSock(6).slice(1)).toEqual([
        ["EVENT_KIND_RESET_SENT", t + 11_950],
        ["EVENT_KIND_STATE_CHANGE", Number(h3!.endUs)],
      ]);
      expect(ofSock(5)[1]).toEqual(["EVENT_KIND_RESET_RECEIVED", t + 11_950]);
      // Hop 1's first FIN (the sidecar's) and its peer's CLOSE_WAIT at the FIN's time.
      expect(ofSock(2)[1]).toEqual(["EVENT_KIND_STATE_CHANGE", t + 9_100]);
      expect(ofSock(1)[1]).toEqual(["EVENT_KIND_STATE_CHANGE", t + 9_100]);
      // Hop 2 recorded none: its end at the hop's end, as before.
      expect(ofSock(4)[1]![1]).toBe(Number(trace.hops[1]!.endUs));
      // Kernel order on the node follows: open, end, close per socket.
      for (const n of [1, 2, 5, 6]) {
        const ns = tl.events.filter((e) => e.event.sock === sockOf(2, n)).map((e) => e.event.tsNs);
        expect([...ns].sort((a, b) => (a < b ? -1 : 1))).toEqual(ns);
      }
    });

    it("rebuilds only what was cut: a socket's surviving raw events stay, only what came before them is rebuilt", async () => {
      const now = Date.now() * 1000;
      const t = now - 20 * MIN_US;
      const trace = meshTrace({ id: "long", k: 2, startUs: t });
      // A long hop 3: open 20 min ago, reset 10 min ago, so its end is still in the ring.
      trace.hops[2]!.endUs = t + 10 * MIN_US;
      trace.endUs = trace.hops[2]!.endUs;
      await ws.store.putTraces([trace]);
      const [open5, open6] = hop3Events(2, t);
      const c = parseSocketId(socketIdOf(2, 5, t))!;
      const close5 = stateEvent({
        sock: c.sock,
        tNs: Number(c.birthNs) + 10 * 60e9,
        local: ["127.0.0.6", 30002],
        remote: [B, 8080],
        from: S.TCP_STATE_ESTABLISHED,
        to: S.TCP_STATE_CLOSE,
      });
      close5.timeUs = t + 10 * MIN_US;
      await ws.store.putEvents(ringSource, [open5!, open6!]);
      await ws.store.putEvents(ringSource, [close5]);
      expect((await ws.store.retention({})).deletedEvents).toBe(2);
      const tl = await ws.store.timeline({ traceId: "long" });
      expect(tl.summarized).toBe(true);
      const mine = tl.events.filter((e) => e.event.sock === c.sock);
      // Rebuilt open, then the real close (seq > 0); no rebuilt end or close after the surviving event.
      expect(mine.map((e) => [e.event.seq > 0, e.event.newState])).toEqual([
        [false, S.TCP_STATE_SYN_SENT],
        [true, S.TCP_STATE_CLOSE],
      ]);
    });

    it("invents nothing for a trace whose events were never stored", async () => {
      await ws.store.putTraces([meshTrace({ id: "bare", k: 3, startUs: Date.now() * 1000 - 30 * MIN_US })]);
      const tl = await ws.store.timeline({ traceId: "bare" });
      expect(tl).toMatchObject({ events: [], summarized: false, truncated: false });
      expect(tl.traces.map((x) => x.traceId)).toEqual(["bare"]);
    });
  });

  describe("a timeline by endpoint", () => {
    it("shows the newest events when no start is given and the oldest from a start, truncated either way", async () => {
      const ep: [string, number] = [A, 45_000];
      const events = Array.from({ length: 30 }, (_, i) =>
        stateEvent({ sock: `aa${i}`, tNs: 9_000_000_000_000 + i * 1_000_000_000, local: ep, remote: [B, 8080], from: S.TCP_STATE_CLOSE, to: S.TCP_STATE_SYN_SENT }),
      );
      // One batch per event, as a slow node sends them: 30 rows to walk.
      for (const e of events) await ws.store.putEvents(ringSource, [e]);
      const times = events.map((e) => e.timeUs!);
      const newest = await ws.store.timeline({ ip: A, port: 45_000, limit: 5 });
      expect(newest.events.map((e) => e.event.timeUs)).toEqual(times.slice(-5));
      expect(newest.truncated).toBe(true);
      const fromStart = await ws.store.timeline({ ip: A, port: 45_000, since: times[3]!, limit: 5 });
      expect(fromStart.events.map((e) => e.event.timeUs)).toEqual(times.slice(3, 8));
      expect(fromStart.truncated).toBe(true);
      const all = await ws.store.timeline({ ip: A, limit: 30 });
      expect(all.events).toHaveLength(30);
      expect(all.truncated).toBe(false);
    });
  });

  describe("timeline by socket identity", () => {
    const mine = connection("aa01", "bb01", T0_NS, CLIENT_PORT);
    // The same client address again 300 ms later: the server closed first, so the port came straight back.
    const reuse = connection("aa02", "bb02", T0_NS + 300_000_000, CLIENT_PORT);
    // A busy neighbour: 40 connections from the same address to the same server within ±1 s.
    const busy = Array.from({ length: 40 }, (_, i) =>
      connection(`cc${i}`, `dd${i}`, T0_NS - 900_000_000 + i * 45_000_000, 41_000 + i),
    );
    // A RST no socket sent, on my exact tuple while my connection lived: it has no identity but is mine.
    const stray = resetSent({ sock: "", tNs: T0_NS + 1_000_000, local: SERVER, remote: [A, CLIENT_PORT], reason: ResetReason.RESET_REASON_NO_SOCKET });

    beforeEach(async () => {
      await ws.store.putEvents(source, [...busy.flatMap((c) => c.events), ...mine.events, stray, ...reuse.events].sort((a, b) => Number(a.tsNs! - b.tsNs!)));
      await ws.store.putTraces([oneHopTrace("mine", mine, T0_NS), oneHopTrace("reuse", reuse, T0_NS + 300_000_000)]);
    });

    const seqs = (tl: { events: { event: { seq: number } }[] }) => tl.events.map((e) => e.event.seq).sort((a, b) => a - b);
    const expected = (...cs: { events: { seq?: number | null }[] }[]) => cs.flatMap((c) => c.events.map((e) => e.seq!)).sort((a, b) => a - b);

    it("a trace's timeline has its own sockets' events and nothing of the reused address or the neighbours", async () => {
      const tl = await ws.store.timeline({ traceId: "mine" });
      expect(seqs(tl)).toEqual([...expected(mine), stray.seq!].sort((a, b) => a - b));
      const other = await ws.store.timeline({ traceId: "reuse" });
      expect(seqs(other)).toEqual(expected(reuse));
    });

    it("a socket id's timeline finds its peer by identity, and alone by an exact tuple during its life", async () => {
      expect(seqs(await ws.store.timeline({ socketId: mine.client }))).toEqual([...expected(mine), stray.seq!].sort((a, b) => a - b));
      // Not in a stored trace: the peer comes from the exact tuple, the reuse 300 ms later does not.
      const lone = connection("ee01", "ff01", T0_NS + 5e9, 42_000);
      const later = connection("ee02", "ff02", T0_NS + 5e9 + 200_000_000, 42_000);
      await ws.store.putEvents(source, [...lone.events, ...later.events]);
      expect(seqs(await ws.store.timeline({ socketId: lone.client }))).toEqual(expected(lone));
    });

    it("an ip:port timeline matches that exact endpoint, never port 0", async () => {
      const tl = await ws.store.timeline({ ip: A, port: 41_003 });
      // Neighbour 3's events with its port on either end; its SYN_SENT (ip:0) names no port to match.
      expect(seqs(tl)).toEqual(busy[3]!.events.slice(1).map((e) => e.seq!).sort((a, b) => a - b));
    });
  });
}
