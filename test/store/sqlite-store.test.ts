import { join } from "node:path";
import Database from "better-sqlite3";
import { beforeEach, describe, expect, it } from "vitest";
import { v1, Outcome, ResetReason, Role, TcpState, type Trace } from "../../src/model/mod.js";
import {
  SqliteTraceStore,
  isBadQueryError,
  isSchemaTooNewError,
  isStoreClosedError,
  type EventSource,
} from "../../src/store/mod.js";
import { A, B, NODE, meshTrace, resetSent, sockOf, socketIdOf, stateEvent } from "./fixtures.js";
import { storeForEachTest } from "./workspace.js";
import { scenarioKeepaliveRace } from "../trace/helpers/pooled.js";
import { stitch } from "../trace/helpers/stitch.js";

const S = TcpState;
const source: EventSource = { node: NODE, bootId: "boot-1", agentStartUs: 1_700_000_000_000_000 };

const ws = storeForEachTest("store");

const ids = (traces: { traceId: string }[]) => traces.map((t) => t.traceId);

describe("SqliteTraceStore writes", () => {
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

  it("keeps a trace's shared hops and race facts, hot and sealed", async () => {
    const traces = stitch(scenarioKeepaliveRace().p.lab.records).traces;
    const race = traces.find((t) => t.outcome === Outcome.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE)!;
    expect(race.race?.idleUs).toBeGreaterThan(0);
    expect(race.hops.some((h) => h.shared && h.useStartUs && h.linkConfidence)).toBe(true);
    await ws.store.putTraces(traces);
    const bytes = (t: Trace | null) => Buffer.from(v1.Trace.encode(t!).finish());
    expect(bytes(await ws.store.getTrace(race.traceId))).toEqual(bytes(race));
    await ws.store.seal();
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

describe("SqliteTraceStore.listTraces", () => {
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

describe("SqliteTraceStore.timeline", () => {
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

describe("SqliteTraceStore.retention", () => {
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

describe("SqliteTraceStore lifecycle", () => {
  it("refuses use after close", async () => {
    await ws.store.close();
    await expect(ws.store.listTraces()).rejects.toSatisfy(isStoreClosedError);
    await ws.store.close();
  });

  it("reopens its own file and refuses a newer schema", async () => {
    const path = join(ws.dir, "tcptrail.db");
    await ws.store.putTraces([meshTrace({ id: "persist", startUs: 1 })]);
    await ws.store.close();
    ws.store = new SqliteTraceStore({ path });
    expect((await ws.store.getTrace("persist"))?.traceId).toBe("persist");
    await ws.store.close();
    const raw = new Database(path);
    raw.pragma("user_version = 99");
    raw.close();
    let err: unknown;
    try {
      ws.store = new SqliteTraceStore({ path });
    } catch (e) {
      err = e;
    }
    expect(isSchemaTooNewError(err)).toBe(true);
    ws.store = new SqliteTraceStore({ path: ":memory:" });
  });

  it("creates the state directory", async () => {
    const nested = new SqliteTraceStore({ path: join(ws.dir, "a", "b", "t.db") });
    expect((await nested.stats()).traces).toBe(0);
    await nested.close();
  });
});
