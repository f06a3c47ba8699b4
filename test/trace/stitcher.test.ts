// Unit behaviour of the stitcher: ordering, identity, pairing, linking,
// outcomes, determinism and resource release, each on a small kernel-faithful
// stream built with the lab model.
import { describe, expect, it } from "vitest";
import { Outcome, ResetReason, v1, formatEndpoint, toWireEvent, withKernelTimes, type ConnEvent } from "../../src/model/mod.js";
import { isInvalidArgumentError } from "../../src/errors/mod.js";
import { DEFAULT_STALL_MAX_MS, MAX_NODES, Stitcher, isStitcherOptionsError, isTooManyNodesError } from "../../src/trace/mod.js";
import { toConnEvent, type FixtureRecord } from "./helpers/load-fixture.js";
import { APP_UID, MeshLab, SIDECAR_UID, type Pod, type Rec } from "./helpers/mesh-lab.js";
import { abort, appA, appB, appC, finFirst, finSecond, handshake, meshChain, podA, podB, podC, proxyA, scenarioOk } from "./helpers/scenarios.js";
import { stitch, toFixture } from "./helpers/stitch.js";

const MS = 1_000_000;

/** A plain connection C → B:9000 (no sidecar on either side), closed by the client with FINs. */
function plain(lab: MeshLab, o: { cport?: number; cid?: string; sid?: string; close?: "fin" | "client-rst" | "none" } = {}) {
  const C = podC();
  const B = podB();
  const dst = { ip: B.ip, port: 9000 };
  const c = lab.sock(C, { ip: C.ip, port: o.cport ?? 50001 }, dst, { uid: APP_UID, role: "APP", ...(o.cid ? { id: o.cid } : {}) });
  const s = lab.sock(B, dst, { ip: C.ip, port: o.cport ?? 50001 }, { uid: APP_UID, role: "APP", ...(o.sid ? { id: o.sid } : {}) });
  handshake(lab, c, s, appC, appB, { target: dst });
  lab.wait("lab", MS);
  if ((o.close ?? "fin") === "fin") {
    finFirst(lab, c, s, appC);
    finSecond(lab, s, c, appB);
  } else if (o.close === "client-rst") {
    abort(lab, c, s, "TCP_ABORT_ON_CLOSE", appC);
  }
  return { c, s };
}

describe("reordering", () => {
  it("events shuffled inside the window give the same trace, and are counted", () => {
    const recs = toFixture(scenarioOk());
    const base = stitch(recs).traces;
    // Reverse every group of 4 events: out of order by up to 40 µs, across batches of 3.
    const shuffled: FixtureRecord[] = [];
    for (let i = 0; i < recs.length; i += 4) shuffled.push(...recs.slice(i, i + 4).reverse());
    const { traces, stitcher } = stitch(shuffled, {}, 3);
    expect(stitcher.stats().reordered).toBeGreaterThan(0);
    expect(traces).toHaveLength(1);
    expect(v1.Trace.toObject(traces[0]!)).toEqual(v1.Trace.toObject(base[0]!));
  });

  it("an event older than what was released is late: applied when its socket is still known, dropped otherwise", () => {
    const lab = new MeshLab();
    const { c } = plain(lab);
    const recs = lab.records;
    const ts = (recs[3]!.event.tsNs as number) + 1000;
    const lateRetrans: Rec = { node: "lab", event: { ...recs[3]!.event, kind: "RETRANSMIT", tsNs: ts, seq: 999, sock: c.id } };
    const lateUnknown: Rec = { node: "lab", event: { ...lateRetrans.event, sock: "ffff8881deadbee0" } };
    const { traces, stitcher } = stitch([...recs, lateRetrans, lateUnknown], { reorderWindowMs: 0.5 }, 4);
    expect(stitcher.stats().late).toBe(2);
    expect(stitcher.stats().lateDropped).toBe(1);
    expect(traces).toHaveLength(1);
    expect(traces[0]!.outcome).toBe(Outcome.OUTCOME_COMPLETED);
  });

  it("a quiet node's window is released by tick() after the window's wall time", () => {
    let now = 1_000;
    const lab = new MeshLab();
    plain(lab);
    const { traces, stitcher } = stitch(lab.records, { clock: () => now, settleMs: 0 }, 8, false);
    expect(stitcher.stats().buffered).toBeGreaterThan(0);
    expect(traces).toHaveLength(0);
    now += 250;
    stitcher.tick(now);
    expect(stitcher.stats().buffered).toBe(0);
    expect(traces).toHaveLength(1);
  });
});

describe("socket identity", () => {
  it("a sock address reused after CLOSE is a new socket: two traces, two ids", () => {
    const lab = new MeshLab();
    plain(lab, { cport: 50001, cid: "ffff888100aa0000", sid: "ffff888100bb0000" });
    plain(lab, { cport: 50002, cid: "ffff888100aa0000", sid: "ffff888100bb0000" });
    const { traces, stitcher } = stitch(lab.records);
    expect(traces).toHaveLength(2);
    expect(traces.map((t) => t.hops[0]!.client!.port)).toEqual([50001, 50002]);
    expect(traces.map((t) => (t.hops[0]!.server!.socketId ?? "").startsWith("lab/ffff888100bb0000/"))).toEqual([true, true]);
    expect(traces[0]!.traceId).not.toBe(traces[1]!.traceId);
    expect(traces.every((t) => t.outcome === Outcome.OUTCOME_COMPLETED)).toBe(true);
    expect(stitcher.stats().sockets).toBe(4);
  });

  it("a reborn address whose CLOSE was never seen marks the old incarnation INCOMPLETE", () => {
    const lab = new MeshLab();
    plain(lab, { cport: 50001, cid: "ffff888100aa0000", close: "none" });
    plain(lab, { cport: 50002, cid: "ffff888100aa0000" });
    const { traces, stitcher } = stitch(lab.records);
    // The first server socket never closed: only drain() emits that trace.
    expect(traces).toHaveLength(1);
    stitcher.drain();
    const first = traces.find((t) => t.hops[0]!.client!.port === 50001)!;
    const second = traces.find((t) => t.hops[0]!.client!.port === 50002)!;
    expect(first.outcome).toBe(Outcome.OUTCOME_INCOMPLETE);
    expect(first.explanation).toContain("close was never seen");
    expect(second.outcome).toBe(Outcome.OUTCOME_COMPLETED);
  });

  it("a close() after the socket died still attributes to it (linger)", () => {
    const lab = new MeshLab();
    const { c } = plain(lab);
    lab.wait("lab", 100 * MS);
    lab.syscall(c, "CLOSE", { pid: 4242, tid: 4242, comm: "late" });
    const { stitcher } = stitch(lab.records, { reorderWindowMs: 1 });
    expect(stitcher.stats().untracked).toBe(0);
  });
});

describe("pairing", () => {
  it("pairs a plain connection by its mirrored 4-tuple even when the server's node streams first", () => {
    const lab = new MeshLab({ n1: { offsetNs: 1e9 }, n2: { offsetNs: 5e12 } });
    const C: Pod = { ...podC(), node: "n1" };
    const B: Pod = { ...podB(), node: "n2" };
    const dst = { ip: B.ip, port: 9000 };
    const c = lab.sock(C, { ip: C.ip, port: 50001 }, dst, { uid: APP_UID, role: "APP" });
    const s = lab.sock(B, dst, { ip: C.ip, port: 50001 }, { uid: APP_UID, role: "APP" });
    handshake(lab, c, s, appC, appB, { target: dst });
    finFirst(lab, c, s, appC);
    finSecond(lab, s, c, appB);
    const recs = [...lab.records.filter((r) => r.node === "n2"), ...lab.records.filter((r) => r.node === "n1")];
    const { traces } = stitch(recs);
    expect(traces).toHaveLength(1);
    expect(traces[0]!.hops).toHaveLength(1);
    expect(traces[0]!.hops[0]!.client!.node).toBe("n1");
    expect(traces[0]!.hops[0]!.server!.node).toBe("n2");
    expect(traces[0]!.hops[0]!.firstFinBy).toBe("client");
  });

  it("never pairs loopback ends living in different network namespaces", () => {
    const lab = new MeshLab();
    const X: Pod = { name: "tt-x", node: "lab", netns: 4026532401, ip: "10.88.0.8" };
    const Y: Pod = { name: "tt-y", node: "lab", netns: 4026532402, ip: "10.88.0.9" };
    const lo = (port: number) => ({ ip: "127.0.0.1", port });
    const c = lab.sock(X, lo(50000), lo(7000), { uid: APP_UID, role: "APP" });
    const s = lab.sock(Y, lo(7000), lo(50000), { uid: APP_UID, role: "APP" });
    // Same tuples, different namespaces: as if each had its own loopback peer we did not see.
    lab.state(c, "SYN_SENT", { localPort: 0 });
    lab.state(c, "ESTABLISHED");
    s.state = "LISTEN";
    lab.state(s, "SYN_RECV");
    lab.state(s, "ESTABLISHED");
    lab.state(c, "CLOSE");
    lab.state(s, "CLOSE");
    const { traces } = stitch(lab.records);
    expect(traces).toHaveLength(2);
    for (const t of traces) {
      expect(t.hops).toHaveLength(1);
      expect(t.outcome).toBe(Outcome.OUTCOME_INCOMPLETE);
      expect(t.explanation).toContain("was not seen although its address is traced");
    }
  });

  it("a half hop towards an address nobody traces is described from the tuple", () => {
    const lab = new MeshLab();
    const C = podC();
    const far = { ip: "192.0.2.10", port: 443 };
    const c = lab.sock(C, { ip: C.ip, port: 50010 }, far, { uid: APP_UID, role: "APP" });
    lab.state(c, "SYN_SENT", { localPort: 0 });
    lab.syscall(c, "CONNECT", appC, { ret: -115, target: far });
    lab.state(c, "ESTABLISHED");
    lab.syscall(c, "CLOSE", appC);
    lab.state(c, "FIN_WAIT1");
    lab.state(c, "FIN_WAIT2");
    lab.state(c, "CLOSE");
    const t = stitch(lab.records).traces[0]!;
    expect(t.outcome).toBe(Outcome.OUTCOME_COMPLETED);
    expect(formatEndpoint(t.hops[0]!.server)).toBe("192.0.2.10:443");
    expect(t.hops[0]!.server!.socketId).toBe("");
  });

  it("a redirect pairing contradicted by SO_ORIGINAL_DST is undone", () => {
    const lab = new MeshLab();
    const A = podA();
    const dst = { ip: "10.88.0.3", port: 8080 };
    const s1 = lab.sock(A, { ip: A.ip, port: 41001 }, dst, { uid: APP_UID, role: "APP" });
    const s2 = lab.sock(A, { ip: "127.0.0.1", port: 15001 }, { ip: A.ip, port: 41001 }, { uid: SIDECAR_UID, role: "SIDECAR", leg: "OUTBOUND_LISTENER" });
    handshake(lab, s1, s2, appA, proxyA, { target: dst, odst: { ip: "10.88.0.77", port: 80 } });
    finFirst(lab, s1, s2, appA);
    finSecond(lab, s2, s1, proxyA);
    const { traces } = stitch(lab.records);
    expect(traces).toHaveLength(2);
    expect(traces.every((t) => t.hops.length === 1)).toBe(true);
    // The sidecar's end is missing its client although that address is traced: not guessed.
    const sidecar = traces.find((t) => t.hops[0]!.server?.port === 15001)!;
    expect(sidecar.hops[0]!.client!.socketId).toBe("");
    expect(sidecar.outcome).toBe(Outcome.OUTCOME_INCOMPLETE);
    // The app's end dialed 10.88.0.3, where nothing is traced: a half hop on its own.
    const app = traces.find((t) => t.hops[0]!.client?.port === 41001)!;
    expect(app.hops[0]!.server!.socketId).toBe("");
  });
});

describe("proxy legs", () => {
  /** Two app connections accepted by sidecar A, both for B:8080, then one upstream connect. */
  function twoDownstreams(tids: [number, number], connectTid: number) {
    const lab = new MeshLab();
    const A = podA();
    const dst = { ip: "10.88.0.3", port: 8080 };
    const downs = [41001, 41011].map((port, i) => {
      const c = lab.sock(A, { ip: A.ip, port }, dst, { uid: APP_UID, role: "APP" });
      const s = lab.sock(A, { ip: "127.0.0.1", port: 15001 }, { ip: A.ip, port }, { uid: SIDECAR_UID, role: "SIDECAR", leg: "OUTBOUND_LISTENER" });
      handshake(lab, c, s, appA, { ...proxyA, tid: tids[i]! }, { target: dst, odst: dst });
      return { c, s };
    });
    const up = lab.sock(A, { ip: A.ip, port: 41002 }, dst, { uid: SIDECAR_UID, role: "SIDECAR", leg: "UPSTREAM" });
    lab.state(up, "SYN_SENT", { localPort: 0 });
    lab.syscall(up, "CONNECT", { ...proxyA, tid: connectTid }, { ret: -115, target: dst });
    lab.state(up, "ESTABLISHED");
    lab.state(up, "FIN_WAIT1");
    lab.state(up, "FIN_WAIT2");
    lab.state(up, "CLOSE");
    for (const { c, s } of downs) {
      finFirst(lab, c, s, appA);
      finSecond(lab, s, c, proxyA);
    }
    return stitch(lab.records);
  }

  it("links the upstream to the downstream accepted on the connecting thread", () => {
    const { traces, stitcher } = twoDownstreams([641, 642], 642);
    expect(traces).toHaveLength(2);
    const linked = traces.find((t) => t.hops.length === 2)!;
    expect(linked.hops[0]!.client!.port).toBe(41011);
    expect(linked.hops[1]!.link).toBe("proxy");
    expect(formatEndpoint(linked.hops[1]!.client)).toBe("10.88.0.2:41002");
    expect(stitcher.stats().pooled).toBe(0);
  });

  it("does not guess when several downstreams could own the connect: pooled, separate traces", () => {
    const { traces, infos, stitcher } = twoDownstreams([640, 640], 640);
    expect(stitcher.stats().pooled).toBe(1);
    expect(traces).toHaveLength(3);
    expect(traces.every((t) => t.hops.length === 1)).toBe(true);
    const upstream = traces.find((t) => t.hops[0]!.client!.port === 41002)!;
    expect(upstream.hops[0]!.link).toBe("pooled");
    expect(infos.every((i) => i.pooled)).toBe(true);
    for (const t of traces) expect(t.explanation).toContain("pooled");
  });
});

describe("outcomes", () => {
  it("RESET_BY_CLIENT: the client aborted", () => {
    const lab = new MeshLab();
    plain(lab, { close: "client-rst" });
    const t = stitch(lab.records).traces[0]!;
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_BY_CLIENT);
    expect(t.hops[0]!.resetBy).toBe("client");
    expect(formatEndpoint(t.resetOrigin)).toBe("10.88.0.4:50001");
    expect(t.explanation).toMatch(/^App node \(pid 1014, lab\/tt-c\) reset the connection to app tt-b on hop 1 \(kernel reason TCP_ABORT_ON_CLOSE\)\.$/);
  });

  it("TIMEOUT: retransmissions, then the kernel gave up without FIN or RST", () => {
    const lab = new MeshLab();
    const { c, s } = plain(lab, { close: "none" });
    for (let i = 0; i < 5; i++) {
      lab.wait("lab", 200 * MS);
      lab.retransmit(c);
    }
    lab.state(c, "CLOSE");
    lab.state(s, "CLOSE");
    const t = stitch(lab.records).traces[0]!;
    expect(t.outcome).toBe(Outcome.OUTCOME_TIMEOUT);
    expect(formatEndpoint(t.resetOrigin)).toBe("10.88.0.4:50001");
    expect(t.explanation).toContain("gave up on app tt-b on hop 1 after 5 retransmissions");
  });

  it("TIMEOUT: a keepalive timeout reset", () => {
    const lab = new MeshLab();
    const { c, s } = plain(lab, { close: "none" });
    abort(lab, c, s, "TCP_KEEPALIVE_TIMEOUT", null);
    const t = stitch(lab.records).traces[0]!;
    expect(t.outcome).toBe(Outcome.OUTCOME_TIMEOUT);
    expect(t.hops[0]!.resetReason).toBe(ResetReason.RESET_REASON_TCP_KEEPALIVE_TIMEOUT);
  });

  it("REFUSED by a host nobody traces: connect() returned ECONNREFUSED after a RST", () => {
    const lab = new MeshLab();
    const C = podC();
    const far = { ip: "192.0.2.10", port: 5432 };
    const c = lab.sock(C, { ip: C.ip, port: 50020 }, far, { uid: APP_UID, role: "APP" });
    lab.state(c, "SYN_SENT", { localPort: 0 });
    lab.resetReceived(c);
    lab.state(c, "CLOSE");
    lab.syscall(c, "CONNECT", appC, { ret: -111, target: far });
    const t = stitch(lab.records).traces[0]!;
    expect(t.outcome).toBe(Outcome.OUTCOME_REFUSED);
    expect(formatEndpoint(t.resetOrigin)).toBe("192.0.2.10:5432");
  });

  it("a connection alive across an agent gap keeps the outcome it was seen with, marked with the gap and its loss", () => {
    const lab = new MeshLab();
    const A = podA();
    const B = podB();
    const { s1, s2, s3, s4, s5, s6 } = meshChain(lab, A, B);
    const start = lab.now("lab");
    lab.wait("lab", 5 * MS);
    lab.gap("lab", start, 42);
    const gapEnd = lab.now("lab");
    abort(lab, s6, s5, "TCP_ABORT_ON_CLOSE", appB);
    abort(lab, s4, s3, "TCP_STATE", null);
    abort(lab, s2, s1, "TCP_STATE", null);
    const { traces, stitcher } = stitch(lab.records);
    expect(traces).toHaveLength(1);
    const t = traces[0]!;
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_BY_SERVER);
    expect(t.resetOriginHop).toBe(3);
    const wallUs = (ns: number) => MeshLab.EPOCH_US + Math.floor((ns - 5_000_000_000) / 1000);
    expect(v1.GapOverlap.toObject(v1.GapOverlap.fromObject(t.gapOverlap!), { defaults: true })).toEqual({ gaps: 1, startUs: wallUs(start), endUs: wallUs(gapEnd), lost: 42, estimatedLost: 0 });
    expect(t.explanation).toContain("; an agent gap (42 events lost) overlapped this connection; events in it may be missing.");
    expect(stitcher.stats()).toMatchObject({ gaps: 1, incomplete: 0 });
  });

  it("INCOMPLETE when a socket's close fell into the gap's span: how it ended is unknown", () => {
    const lab = new MeshLab();
    const { s1, s2, s3, s4, s5, s6 } = meshChain(lab, podA(), podB());
    const start = lab.now("lab");
    abort(lab, s6, s5, "TCP_ABORT_ON_CLOSE", appB);
    lab.gap("lab", start, 7);
    abort(lab, s4, s3, "TCP_STATE", null);
    abort(lab, s2, s1, "TCP_STATE", null);
    const { traces, infos, stitcher } = stitch(lab.records);
    expect(traces).toHaveLength(1);
    expect(traces[0]!.outcome).toBe(Outcome.OUTCOME_INCOMPLETE);
    expect(traces[0]!.resetOrigin).toBeNull();
    expect(traces[0]!.gapOverlap).toBeNull();
    expect(infos[0]!.incompleteReason).toBe("its open or close fell into an agent gap");
    expect(traces[0]!.explanation).toContain("not guessed");
    expect(stitcher.stats()).toMatchObject({ gaps: 1, incomplete: 1 });
  });

  it("never PROCESS_EXIT because of a gap: a FIN without a seen close() across a gap may have lost its close()", () => {
    const run = (withGap: boolean) => {
      const lab = new MeshLab();
      const C = podC();
      const B = podB();
      const dst = { ip: B.ip, port: 9000 };
      const c = lab.sock(C, { ip: C.ip, port: 50001 }, dst, { uid: APP_UID, role: "APP" });
      const s = lab.sock(B, dst, { ip: C.ip, port: 50001 }, { uid: APP_UID, role: "APP" });
      handshake(lab, c, s, appC, appB, { target: dst });
      const start = lab.now("lab");
      lab.wait("lab", MS);
      if (withGap) lab.gap("lab", start, 3);
      finFirst(lab, c, s, null);
      finSecond(lab, s, c, appB);
      return stitch(lab.records).traces;
    };
    // Without a gap the same events are a process exit: the test can tell them apart.
    expect(run(false)[0]!.outcome).toBe(Outcome.OUTCOME_PROCESS_EXIT);
    const [t] = run(true);
    expect(t!.outcome).toBe(Outcome.OUTCOME_COMPLETED);
    expect(t!.gapOverlap?.lost).toBe(3);
    expect(t!.explanation).toMatch(/an agent gap \(3 events lost\) overlapped this connection/);
  });

  it("OPEN: drain() emits what is still open; a max-age trace is emitted once", () => {
    let now = 10_000;
    const lab = new MeshLab();
    const { c, s } = plain(lab, { close: "none" });
    const opened = stitch(lab.records, { clock: () => now, maxAgeMs: 60_000 }, 8, false);
    opened.stitcher.flush();
    expect(opened.traces).toHaveLength(0);
    expect(opened.stitcher.stats().liveSockets).toBe(2);
    now += 61_000;
    opened.stitcher.tick(now);
    expect(opened.traces).toHaveLength(1);
    expect(opened.traces[0]!.outcome).toBe(Outcome.OUTCOME_OPEN);
    expect(opened.traces[0]!.endUs).toBe(0);
    // Closing later does not emit it again.
    finFirst(lab, c, s, appC);
    finSecond(lab, s, c, appB);
    const tail = toFixture(lab.records).slice(-7);
    opened.stitcher.ingest("lab", tail.map((r) => r.event));
    opened.stitcher.flush();
    expect(opened.traces).toHaveLength(1);

    const drained = stitch(toFixture(lab.records).slice(0, -7), {}, 8, false);
    drained.stitcher.drain();
    expect(drained.traces.map((t) => t.outcome)).toEqual([Outcome.OUTCOME_OPEN]);
  });
});

describe("determinism and resources", () => {
  it("the trace id depends only on the first client socket, not on batching or decoding", () => {
    const recs = toFixture(scenarioOk());
    const ids = [1, 3, 50].map((b) => stitch(recs, {}, b).traces[0]!.traceId);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[0-9a-f]{32}$/);
    // Through the wire: encoded and decoded again (uint64 fields come back as numbers, kernel times as exact bigints).
    const base = recs[0]!.event.tsNs;
    const decoded = recs.map((r) => {
      const msg = v1.ConnEvent.decode(v1.ConnEvent.encode(toWireEvent(r.event, base)).finish());
      return { node: r.node, event: withKernelTimes(msg, base) as ConnEvent };
    });
    expect(decoded[0]!.event.tsNs).toBe(recs[0]!.event.tsNs);
    const viaWire = stitch(decoded).traces[0]!;
    expect(viaWire.traceId).toBe(ids[0]);
    expect(viaWire.outcome).toBe(Outcome.OUTCOME_COMPLETED);
    // Another socket identity, another id.
    const lab = new MeshLab({ lab: { offsetNs: 6_000_000_000 } });
    expect(stitch(scenarioOk(lab)).traces[0]!.traceId).not.toBe(ids[0]);
  });

  it("frees every slot once traces are emitted and the linger expires", () => {
    let now = 0;
    const lab = new MeshLab();
    for (let i = 0; i < 20; i++) plain(lab, { cport: 51000 + i });
    scenarioOk(lab);
    const { traces, stitcher } = stitch(lab.records, { clock: () => now }, 16, false);
    expect(stitcher.stats().buffered).toBe(lab.records.length);
    // A quiet node's clock runs on for its live time: the window is released and the traces settle.
    now += 5_000;
    stitcher.tick(now);
    expect(traces).toHaveLength(21);
    // Then it stands still (the agent may be stalled), so the closed sockets stay addressable...
    expect(stitcher.stats().trackedSlots).toBe(46);
    // ...until the node has been silent past stallMaxMs: presumed idle, its linger runs out.
    now += DEFAULT_STALL_MAX_MS;
    stitcher.tick(now);
    expect(stitcher.stats()).toMatchObject({ trackedSlots: 0, liveSockets: 0, traces: 21, hops: 23 });
  });

  it("counts malformed events and keeps going", () => {
    const st = new Stitcher();
    const good = toFixture(scenarioOk());
    const bad = [
      null,
      {},
      toConnEvent({ kind: "STATE_CHANGE", tsNs: 0 }),
      toConnEvent({ kind: "STATE_CHANGE", tsNs: 5, oldState: "CLOSE", newState: "SYN_SENT" }),
      toConnEvent({ kind: 77, tsNs: 6, sock: "x" }),
    ] as unknown as ConnEvent[];
    st.ingest("lab", bad);
    st.ingest("lab", good.map((r) => r.event));
    st.flush();
    expect(st.stats().malformed).toBe(5);
    expect(st.stats().traces).toBe(1);
  });

  it("rejects options out of range with a typed error", () => {
    let err: unknown;
    try {
      new Stitcher({ reorderWindowMs: -1 });
    } catch (e) {
      err = e;
    }
    expect(isStitcherOptionsError(err)).toBe(true);
    expect(isStitcherOptionsError(err) && err.code).toBe("ERR_TRACE_INVALID_OPTION");
    // An InvalidArgumentError like every option check, naming the option.
    expect(isInvalidArgumentError(err) && err.property).toBe("reorderWindowMs");
    expect(() => new Stitcher({ inboundRedirectPorts: [70000] })).toThrow(/not a TCP port/);
    expect(() => new Stitcher({ proxyIdleTimeoutMs: [30_000, 0] })).toThrow(/proxyIdleTimeoutMs must be finite numbers > 0, got 0/);
    expect(() => new Stitcher({ idleCloseMinMs: -1 })).toThrow(/idleCloseMinMs/);
  });

  it("a node past the last one it can tell apart is a TooManyNodesError, and the known nodes keep working", () => {
    const st = new Stitcher();
    for (let i = 0; i < MAX_NODES; i++) st.ingest(`node-${i}`, []);
    let err: unknown;
    try {
      st.ingest("one-too-many", []);
    } catch (e) {
      err = e;
    }
    expect(isTooManyNodesError(err) && err.limit).toBe(MAX_NODES);
    expect((err as Error).message).toContain('"one-too-many"');
    expect(() => st.ingest("node-0", [])).not.toThrow();
  });
});

describe("process exit", () => {
  it("a sidecar killed mid-request: its FINs came with no close(), so the failure began in the sidecar", () => {
    const lab = new MeshLab();
    const A = podA();
    const B = podB();
    const { s1, s2, s3, s4, s5, s6 } = meshChain(lab, A, B);
    lab.wait(B.node, 3_000_000);
    // What the kernel does when the proxy is SIGKILLed with nothing unread: FINs, no syscalls.
    finFirst(lab, s4, s3, null);
    finFirst(lab, s5, s6, null);
    finSecond(lab, s6, s5, appB);
    lab.wait(A.node, 1_000_000);
    finSecond(lab, s3, s4, proxyA);
    finFirst(lab, s2, s1, proxyA);
    finSecond(lab, s1, s2, appA);
    const { traces } = stitch(lab.records);
    expect(traces).toHaveLength(1);
    const t = traces[0]!;
    expect(t.outcome).toBe(Outcome.OUTCOME_PROCESS_EXIT);
    expect(t.resetOrigin?.role).toBe(2 /* SIDECAR */);
    expect(t.resetOrigin?.pod).toBe(B.name);
    expect(t.explanation).toMatch(/exited \(crashed or was killed\)/);
  });

  it("the same FINs after close() are an ordinary completion", () => {
    const { traces } = stitch(scenarioOk());
    expect(traces[0]!.outcome).toBe(Outcome.OUTCOME_COMPLETED);
  });
});
