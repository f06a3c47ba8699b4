// A close lost inside an agent gap: bpftrace restarted, and a connection that
// was open before it closed while nothing printed, so its close never comes.
// The stitcher watches every socket alive when a gap with a span ends; one
// that shows nothing for gapCloseWaitMs of its node's event time is taken as
// closed in the gap and its trace settles then, INCOMPLETE with the gap's
// overlap, never PROCESS_EXIT, instead of staying OPEN until maxAgeMs.
import { describe, expect, it } from "vitest";
import { Outcome, type ConnEvent, type Trace } from "../../src/model/mod.js";
import { DEFAULT_GAP_CLOSE_WAIT_MS, Stitcher, type StitcherOptions, type TraceInfo } from "../../src/trace/mod.js";
import { APP_UID, MeshLab } from "./helpers/mesh-lab.js";
import { appB, appC, finFirst, finSecond, handshake, podB, podC } from "./helpers/scenarios.js";
import { toFixture } from "./helpers/stitch.js";

const MS = 1_000_000;
/** The lab node's monotonic clock offset (MeshLab's default node). */
const LAB_OFFSET_NS = 5_000_000_000;
const CLOSE_IN_GAP = "a socket's close was not seen: nothing of it since an agent gap, so its end fell in the gap";

/** A plain connection C → B on node `lab`, established and then quiet. */
function openConnection(lab: MeshLab, port = 50001) {
  const C = podC();
  const B = podB();
  const dst = { ip: B.ip, port: 9000 };
  const c = lab.sock(C, { ip: C.ip, port }, dst, { uid: APP_UID, role: "APP" });
  const s = lab.sock(B, dst, { ip: C.ip, port }, { uid: APP_UID, role: "APP" });
  handshake(lab, c, s, appC, appB, { target: dst });
  return { c, s };
}

/** bpftrace died `spanMs` ago and is back: a GAP with that span, its loss estimated (nobody counted it). */
function restartGap(lab: MeshLab, spanMs: number, estimatedLost = 120): void {
  const start = lab.now("lab");
  lab.wait("lab", spanMs * MS);
  lab.emit("lab", { kind: "GAP", lost: 0, estimatedLost, gapReason: "bpftrace restarted (exit 9)", gapStartNs: start });
}

interface Driven {
  traces: Trace[];
  infos: TraceInfo[];
  stitcher: Stitcher;
  /** Wall ms after the last record each trace was emitted at. */
  emittedAfterMs: number[];
}

/**
 * Feed `recs` at their wall times, then let `runMs` of wall time pass in
 * 100 ms ticks. The node's agent heartbeats every second (its event time 100
 * ms ago), as an idle node's does: its event time moves on while it is quiet.
 * `later` records are fed `laterAtMs` after the last of `recs`.
 */
function drive(recs: ConnEvent[], runMs: number, opts: StitcherOptions = {}, later: { atMs: number; events: ConnEvent[] } | null = null): Driven {
  const traces: Trace[] = [];
  const infos: TraceInfo[] = [];
  const emittedAfterMs: number[] = [];
  const lastMs = Number(recs[recs.length - 1]!.timeUs) / 1000;
  let wall = lastMs;
  const stitcher = new Stitcher({
    settleMs: 400,
    ...opts,
    clock: () => wall,
    onTrace: (t, i) => {
      traces.push(t);
      infos.push(i);
      emittedAfterMs.push(wall - lastMs);
    },
  });
  stitcher.ingest("lab", recs);
  const labNs = (wallMs: number) => BigInt(Math.round((wallMs * 1000 - MeshLab.EPOCH_US) * 1000) + LAB_OFFSET_NS);
  let nextBeat = wall + 1000;
  for (; wall <= lastMs + runMs; wall += 100) {
    if (later && wall >= lastMs + later.atMs) {
      stitcher.ingest("lab", later.events);
      later = null;
    }
    if (wall >= nextBeat) {
      nextBeat += 1000;
      stitcher.heartbeat("lab", labNs(wall - 100), Math.round((wall - 100) * 1000));
    }
    stitcher.tick(wall);
  }
  return { traces, infos, stitcher, emittedAfterMs };
}

describe("a close lost inside an agent gap", () => {
  it("settles gapCloseWaitMs after the gap instead of at maxAgeMs: INCOMPLETE, with the gap's overlap, never PROCESS_EXIT", () => {
    const lab = new MeshLab();
    openConnection(lab);
    lab.wait("lab", 200 * MS);
    // Both ends closed while bpftrace was dead: nothing of them ever again.
    restartGap(lab, 2_000);
    const d = drive(toFixture(lab.records).map((r) => r.event), 8_000);
    expect(d.traces).toHaveLength(1);
    const t = d.traces[0]!;
    expect(t.outcome).toBe(Outcome.OUTCOME_INCOMPLETE);
    expect(d.infos[0]!.incompleteReason).toBe(CLOSE_IN_GAP);
    expect(t.explanation).toContain(CLOSE_IN_GAP);
    expect(t.gapOverlap).toMatchObject({ gaps: 1, lost: 0, estimatedLost: 120 });
    expect(t.explanation).toContain("an agent gap (about 120 events unseen) overlapped this connection");
    // The deadline is in the node's event time from the gap's end: 5 s, then settled at once (the sockets count as closed at the gap's end).
    expect(d.emittedAfterMs[0]).toBeGreaterThanOrEqual(DEFAULT_GAP_CLOSE_WAIT_MS);
    expect(d.emittedAfterMs[0]).toBeLessThanOrEqual(DEFAULT_GAP_CLOSE_WAIT_MS + 1_100);
    expect(d.stitcher.stats()).toMatchObject({ closedInGap: 2, incomplete: 1, gaps: 1 });
  });

  it("before this (no deadline within reach) the same connection stays open: nothing is emitted in 20 s", () => {
    const lab = new MeshLab();
    openConnection(lab);
    restartGap(lab, 2_000);
    const d = drive(toFixture(lab.records).map((r) => r.event), 20_000, { gapCloseWaitMs: 10 * 60_000 });
    expect(d.traces).toHaveLength(0);
    expect(d.stitcher.stats()).toMatchObject({ liveSockets: 2, closedInGap: 0 });
  });

  it("a connection that shows an event after the gap lived on: it closes as seen, COMPLETED with the gap's overlap", () => {
    const lab = new MeshLab();
    const { c, s } = openConnection(lab);
    restartGap(lab, 2_000);
    lab.wait("lab", 1_000 * MS);
    finFirst(lab, c, s, appC);
    finSecond(lab, s, c, appB);
    const d = drive(toFixture(lab.records).map((r) => r.event), 8_000);
    expect(d.traces.map((t) => t.outcome)).toEqual([Outcome.OUTCOME_COMPLETED]);
    expect(d.traces[0]!.gapOverlap).toMatchObject({ gaps: 1, estimatedLost: 120 });
    expect(d.stitcher.stats().closedInGap).toBe(0);
  });

  it("a connection idle across the gap longer than the wait is settled as closed in it; its later events and close make no second trace", () => {
    const lab = new MeshLab();
    const { c, s } = openConnection(lab);
    restartGap(lab, 2_000);
    const first = toFixture(lab.records).map((r) => r.event);
    const n = lab.records.length;
    // 7 s after the gap (past the 5 s wait) it closes after all.
    lab.wait("lab", 7_000 * MS);
    finFirst(lab, c, s, appC);
    finSecond(lab, s, c, appB);
    const later = toFixture(lab.records.slice(n)).map((r) => r.event);
    const d = drive(first, 10_000, {}, { atMs: 7_000, events: later });
    expect(d.traces).toHaveLength(1);
    expect(d.infos[0]!.incompleteReason).toBe(CLOSE_IN_GAP);
    expect(d.stitcher.stats()).toMatchObject({ traces: 1, closedInGap: 2 });
  });

  it("a watched socket whose address a new socket takes before the deadline: its close is the gap's (not 'never seen')", () => {
    const lab = new MeshLab();
    const { c } = openConnection(lab);
    restartGap(lab, 2_000);
    lab.wait("lab", 500 * MS);
    // The kernel reuses the client's struct sock for a new connection: the old one closed unseen.
    const reused = lab.sock(podC(), { ip: podC().ip, port: 50002 }, { ip: podB().ip, port: 9000 }, { uid: APP_UID, role: "APP", id: c.id });
    lab.state(reused, "SYN_SENT", { localPort: 0 });
    // Its server end, also silent, settles at the deadline: then the trace.
    const d = drive(toFixture(lab.records).map((r) => r.event), 7_000);
    const t = d.traces.find((x) => x.hops[0]?.client?.port === 50001)!;
    expect(d.stitcher.stats().closedInGap).toBe(2); // the client by its address's reuse, the server end by the deadline
    expect(t.outcome).toBe(Outcome.OUTCOME_INCOMPLETE);
    expect(d.infos[d.traces.indexOf(t)]!.incompleteReason).toBe(CLOSE_IN_GAP);
    expect(t.gapOverlap).toMatchObject({ gaps: 1, estimatedLost: 120 });
  });

  it("a gap without a span (perf-buffer losses) watches nothing: the quiet connection stays open", () => {
    const lab = new MeshLab();
    openConnection(lab);
    // The agent reports a perf-buffer loss at the newest event it read: start = end (MeshLab stamps the GAP 10 µs on).
    lab.gap("lab", lab.now("lab") + 10_000, 5);
    const d = drive(toFixture(lab.records).map((r) => r.event), 8_000);
    expect(d.traces).toHaveLength(0);
    expect(d.stitcher.stats()).toMatchObject({ gaps: 1, closedInGap: 0, liveSockets: 2 });
  });

  it("flush() does not declare a close lost before its deadline", () => {
    const lab = new MeshLab();
    openConnection(lab);
    restartGap(lab, 2_000);
    const d = drive(toFixture(lab.records).map((r) => r.event), 1_000);
    d.stitcher.flush();
    expect(d.traces).toHaveLength(0);
  });
});
