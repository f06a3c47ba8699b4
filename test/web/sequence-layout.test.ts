// The sequence diagram's layout on the lab scenarios' real traces (recorded
// events through the Stitcher), without a browser.
import { describe, expect, it } from "vitest";
import { hopTimesUs, laneKey, layoutSequence, needsEvents, type Arrow } from "../../src/web/sequence-layout.js";
import { traceToJson } from "../../src/query/mod.js";
import { scenarioKeepaliveRace } from "../trace/helpers/pooled.js";
import { stitch } from "../trace/helpers/stitch.js";
import { labTraceJson } from "./helpers/lab-traces.js";

const brief = (a: Arrow) => `${a.hop} ${a.signal} ${a.sender} ${a.from}->${a.to}`;

describe("layoutSequence", () => {
  it("app-abort: four lanes, the chain's SYNs, app b's RST as the origin, relayed as FINs", () => {
    const { trace, events } = labTraceJson("app-abort");
    const l = layoutSequence(trace, events);
    expect(l.lanes.map((x) => `${x.title} ${x.pod} ${x.process}`)).toEqual([
      "app tt-a tt-client (pid 609)",
      "sidecar outbound tt-a haproxy (pid 566)",
      "sidecar inbound tt-b haproxy (pid 579)",
      "app tt-b tt-app (pid 568)",
    ]);
    expect(l.lanes.map((x) => x.origin)).toEqual([false, false, false, true]);
    // Each lane holds the sockets of its actor: the sidecars one per hop side.
    expect(l.lanes.map((x) => x.sockets.map((s) => `${s.hop}${s.side[0]}`).join(","))).toEqual(["1c", "1s,2c", "2s,3c", "3s"]);
    expect(l.arrows.map(brief)).toEqual([
      "1 SYN client 0->1",
      "2 SYN client 1->2",
      "3 SYN client 2->3",
      "3 RST server 3->2",
      "2 FIN server 2->1",
      "1 FIN server 1->0",
    ]);
    const rst = l.arrows[3]!;
    expect(rst).toMatchObject({ reason: "TCP_STATE", origin: true, exact: true });
    expect(l.arrows.filter((a) => a.origin)).toHaveLength(1);
    // The stitcher's explanation times the relays from the RST (96 µs, then
    // 227 µs): the arrows are that far apart, within a µs (it rounds kernel
    // ns, events' wall times are whole µs).
    expect(trace.explanation).toMatch(/96 µs later.*227 µs later/);
    expect(Math.abs(l.arrows[4]!.sinceUs! - 96)).toBeLessThanOrEqual(1);
    expect(Math.abs(l.arrows[5]!.timeUs - rst.timeUs - 227)).toBeLessThanOrEqual(1);
    // REDIRECTed SYNs name where the client meant to go; the last hop reached it.
    expect(l.arrows.slice(0, 3).map((a) => a.originalDestination)).toEqual(["10.88.100.3:8080", "10.88.100.3:8080", null]);
  });

  it("places arrows down the page in time order, lanes across it", () => {
    const { trace, events } = labTraceJson("ok");
    const l = layoutSequence(trace, events, { laneWidth: 100, left: 50, top: 10, rowHeight: 20 });
    expect(l.lanes.map((x) => x.x)).toEqual([50, 150, 250, 350]);
    expect(l.width).toBe(400);
    expect(l.arrows[0]!.y).toBe(10);
    expect(l.arrows[0]!.sinceUs).toBeNull();
    for (let i = 1; i < l.arrows.length; i++) {
      const [a, b] = [l.arrows[i - 1]!, l.arrows[i]!];
      expect(b.timeUs).toBeGreaterThanOrEqual(a.timeUs);
      expect(b.y - a.y).toBeGreaterThanOrEqual(20);
      expect(b.sinceUs).toBe(b.timeUs - a.timeUs);
    }
    expect(l.height).toBe(l.arrows[l.arrows.length - 1]!.y + 20);
    // Completed: FINs only, each hop's first closer as the stitcher found it.
    expect(l.arrows.filter((a) => a.signal !== "SYN").map(brief)).toEqual(["3 FIN server 3->2", "2 FIN server 2->1", "1 FIN server 1->0"]);
  });

  it("reject: the refused port is a lane of its own, the RST comes from the network", () => {
    const { trace, events } = labTraceJson("reject");
    const l = layoutSequence(trace, events);
    expect(l.lanes.map((x) => x.title)).toEqual(["app", "sidecar outbound", "untraced"]);
    expect(l.lanes[2]!.sockets[0]!.address).toBe("10.88.100.3:9091");
    expect(l.lanes.map((x) => x.origin)).toEqual([false, false, true]);
    const rst = l.arrows.find((a) => a.signal === "RST")!;
    expect(brief(rst)).toBe("2 RST network 2->1");
    expect(rst.origin).toBe(true);
  });

  it("without events, every arrow sits at its hop's step time, which the events agree with", () => {
    const { trace, events } = labTraceJson("app-abort");
    expect(needsEvents(trace)).toBe(false);
    const l = layoutSequence(trace);
    expect(l.arrows.every((a) => a.exact)).toBe(true);
    const rst = l.arrows.find((a) => a.signal === "RST")!;
    expect(rst.timeUs).toBe(trace.hops[2]!.reset_us);
    expect(l.arrows.filter((a) => a.signal === "FIN").map((a) => a.timeUs)).toEqual([trace.hops[1]!.first_fin_us, trace.hops[0]!.first_fin_us]);
    expect(l.arrows.filter((a) => a.signal === "SYN").map((a) => a.timeUs)).toEqual(trace.hops.map((h) => h.opened_us));
    // The same order and, within the µs the events' whole-µs wall times round
    // away, the same times as the arrows placed by the events alone.
    const byEvents = layoutSequence({ ...trace, hops: trace.hops.map((h) => ({ ...h, opened_us: null, first_fin_us: null, reset_us: null })) }, events);
    expect(byEvents.arrows.map(brief)).toEqual(l.arrows.map(brief));
    byEvents.arrows.forEach((a, i) => expect(Math.abs(a.timeUs - l.arrows[i]!.timeUs), brief(a)).toBeLessThanOrEqual(1));
  });

  it("a trace stored before step times, without events: FIN and RST sit at their hop's end and say they are not exact", () => {
    const { trace } = labTraceJson("app-abort");
    const old = { ...trace, hops: trace.hops.map((h) => ({ ...h, opened_us: null, first_fin_us: null, reset_us: null })) };
    expect(needsEvents(old)).toBe(true);
    const l = layoutSequence(old);
    const rst = l.arrows.find((a) => a.signal === "RST")!;
    expect(rst.exact).toBe(false);
    expect(rst.timeUs).toBe(hopTimesUs(old.hops[2]!).endUs);
    expect(l.arrows.filter((a) => a.signal === "SYN").every((a) => a.exact)).toBe(true);
  });

  it("marks a shared (pooled) hop's arrows", () => {
    const { trace } = labTraceJson("ok");
    trace.hops[1] = { ...trace.hops[1]!, shared: true, link_confidence: "AMBIGUOUS" };
    const l = layoutSequence(trace);
    expect(l.arrows.filter((a) => a.shared).map((a) => a.hop)).toEqual([2, 2]);
  });

  it("reads hop times to the µs", () => {
    expect(hopTimesUs({ start: "2026-11-22T00:15:30.315119Z", end: null })).toEqual({ startUs: 1795306530315119, endUs: 0 });
  });

  it("keys a process's lane by direction, an untraced peer by address", () => {
    const { trace } = labTraceJson("app-abort");
    const [h1, h2, h3] = trace.hops;
    expect(laneKey(h1!.server)).toBe(laneKey(h2!.client));
    expect(laneKey(h2!.server)).toBe(laneKey(h3!.client));
    expect(laneKey(h1!.server)).not.toBe(laneKey({ ...h2!.server, pid: h1!.server.pid, pod: h1!.server.pod, netns: h1!.server.netns }));
    expect(laneKey({ ...h3!.server, socket_id: null, pid: null, role: null })).toBe("addr|10.88.100.3:8080");
  });
});

describe("layoutSequence on a pooled upstream", () => {
  const race = () => {
    const { p } = scenarioKeepaliveRace();
    const t = stitch(p.lab.records).traces.map(traceToJson).find((x) => x.outcome === "UPSTREAM_IDLE_CLOSE_RACE");
    if (!t) throw new Error("the keep-alive race stitched no race trace");
    return t;
  };

  it("keep-alive race: app b's idle close is the origin (a FIN, no RST on its hop), the reused hops are marked", () => {
    const t = race();
    const l = layoutSequence(t);
    expect(l.lanes.map((x) => `${x.title} ${x.pod}`)).toEqual(["app tt-a", "sidecar outbound tt-a", "sidecar inbound tt-b", "app tt-b"]);
    expect(l.lanes.map((x) => x.origin)).toEqual([false, false, false, true]);
    const origin = l.arrows.filter((a) => a.origin);
    expect(origin.map(brief)).toEqual(["3 FIN server 3->2"]);
    // Hops 2 and 3 are the pool's: dialed for an earlier request, reused by this one.
    expect(l.arrows.filter((a) => a.shared).map((a) => a.hop).sort()).toEqual([2, 2, 2, 3, 3]);
    expect(l.arrows.filter((a) => a.reused).map(brief)).toEqual(["2 SYN client 1->2", "3 SYN client 2->3"]);
    expect(l.arrows.find((a) => a.hop === 1 && a.signal === "SYN")!.reused).toBe(false);
    expect(l.arrows.some((a) => a.ambiguous)).toBe(false);
    // The RST the reuse met, with its kernel reason.
    expect(l.arrows.find((a) => a.hop === 2 && a.signal === "RST")).toMatchObject({ reason: t.race!.reset_reason, origin: false });
  });

  it("says when a shared hop's link to the trace is a guess", () => {
    const t = race();
    t.hops[1] = { ...t.hops[1]!, link_confidence: "AMBIGUOUS" };
    expect(layoutSequence(t).arrows.filter((a) => a.ambiguous).every((a) => a.hop === 2)).toBe(true);
    expect(layoutSequence(t).arrows.filter((a) => a.ambiguous)).toHaveLength(3);
  });
});
