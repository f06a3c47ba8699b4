// Timelines read from the event ring (issue 9): a trace whose raw events
// retention cut is told from its hops' stored facts and marked summarized;
// only the part that was cut is rebuilt; nothing is invented for events that
// were never stored; an endpoint without a start shows its newest events.
import { describe, expect, it } from "vitest";
import { EventKind, Outcome, ResetReason, TcpState, parseSocketId, type ConnEventInit } from "../../src/model/mod.js";
import type { EventSource, StoredEvent } from "../../src/store/mod.js";
import { A, B, NODE, meshTrace, sockOf, socketIdOf, stateEvent } from "./fixtures.js";
import { storeForEachTest } from "./workspace.js";

const S = TcpState;
const source: EventSource = { node: NODE, bootId: "boot-1", agentStartUs: 1 };
const ws = storeForEachTest("timeline-ring");

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

describe("a timeline whose raw events retention cut", () => {
  it("rebuilds every socket's open, first FIN or reset with its reason, and close from the hops, marked summarized", async () => {
    const now = Date.now() * 1000;
    const t = now - 30 * MIN_US; // older than the ring (15 min), well within the traces' day
    const trace = meshTrace({ id: "cut", k: 1, startUs: t });
    await ws.store.putTraces([trace]);
    await ws.store.putEvents(source, hop3Events(1, t));
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
    await ws.store.putEvents(source, hop3Events(2, t));
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
    await ws.store.putEvents(source, [open5!, open6!]);
    await ws.store.putEvents(source, [close5]);
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
    for (const e of events) await ws.store.putEvents(source, [e]);
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

describe("outcome fixtures", () => {
  it("meshTrace resets on hop 3 by the server with TCP_ABORT_ON_CLOSE (what the rebuild test relies on)", () => {
    const h = meshTrace({ id: "x", startUs: 1 }).hops[2]!;
    expect([h.resetBy, h.resetReason, h.outcome]).toEqual(["server", ResetReason.RESET_REASON_TCP_ABORT_ON_CLOSE, Outcome.OUTCOME_RESET_BY_SERVER]);
  });
});
