// When each step of a hop happened (Hop.opened_us, first_fin_us, reset_us):
// the kernel's time of the event the stitcher took the step's sender from,
// through that node's clock, exactly. The mesh lab's events fall on whole µs
// (10 µs apart), so the expected times are the events' own, to the µs.
import { describe, expect, it } from "vitest";
import type { Trace } from "../../src/model/mod.js";
import { APP_UID, MeshLab, type Rec } from "./helpers/mesh-lab.js";
import { scenarioKeepaliveRace } from "./helpers/pooled.js";
import { SCENARIOS, appA, appB, podA, podB } from "./helpers/scenarios.js";
import { segmentEventUs, stepUs, type Segment } from "./helpers/segment-events.js";
import { stitch, toFixture } from "./helpers/stitch.js";

const MS = 1_000_000;
const lastUs = (lab: MeshLab): number => lab.records[lab.records.length - 1]!.event.timeUs as number;

describe("step times", () => {
  it("one hop, times known as the events are made: SYN at the connect, RST at the server's abort 3 ms later, no FIN", () => {
    const lab = new MeshLab();
    const A = podA();
    const B = podB();
    const dst = { ip: B.ip, port: 8080 };
    const c = lab.sock(A, { ip: A.ip, port: 43001 }, dst, { uid: APP_UID, role: "APP" });
    const s = lab.sock(B, dst, { ip: A.ip, port: 43001 }, { uid: APP_UID, role: "APP" });
    lab.wait(A.node, 1 * MS);
    lab.state(c, "SYN_SENT", { localPort: 0 });
    const synUs = lastUs(lab);
    lab.syscall(c, "CONNECT", appA, { ret: -115, target: dst });
    lab.state(c, "ESTABLISHED");
    s.state = "LISTEN";
    lab.state(s, "SYN_RECV");
    lab.state(s, "ESTABLISHED");
    lab.syscall(s, "ACCEPT", appB);
    lab.wait(B.node, 3 * MS);
    lab.syscall(s, "CLOSE", appB);
    lab.state(s, "CLOSE");
    s.state = "ESTABLISHED";
    lab.resetSent(s, "TCP_ABORT_ON_CLOSE");
    const rstUs = lastUs(lab);
    lab.resetReceived(c);
    lab.state(c, "CLOSE");
    lab.syscall(c, "CLOSE", appA);

    const { traces } = stitch(lab.records);
    expect(traces).toHaveLength(1);
    const hop = traces[0]!.hops[0]!;
    expect([hop.openedBy, hop.firstFinBy, hop.resetBy]).toEqual(["client", "", "server"]);
    expect(rstUs - synUs).toBeGreaterThanOrEqual(3000);
    expect([Number(hop.openedUs), Number(hop.firstFinUs), Number(hop.resetUs)]).toEqual([synUs, 0, rstUs]);
    // Not the hop's ends: the client's CLOSE after the RST's arrival ends it.
    expect(Number(hop.endUs)).toBeGreaterThan(rstUs);
  });

  const recorded = (recs: readonly Rec[], t: Trace) => {
    const fixture = toFixture(recs);
    for (const hop of t.hops) {
      const named: [Segment, boolean][] = [
        ["SYN", hop.openedBy !== ""],
        ["FIN", hop.firstFinBy !== ""],
        ["RST", hop.resetBy !== ""],
      ];
      for (const [segment, present] of named) {
        const want = present ? segmentEventUs(fixture, hop, segment) : 0;
        if (present) expect(want, `hop ${hop.index} ${segment}: in the recording`).toBeGreaterThan(0);
        expect(stepUs(hop, segment), `hop ${hop.index} ${segment}`).toBe(want);
      }
    }
  };

  it.each(Object.keys(SCENARIOS))("%s: every named step at the time of its kernel event, on its own node's clock", (name) => {
    const recs = SCENARIOS[name]!();
    const { traces } = stitch(recs);
    expect(traces.length).toBeGreaterThan(0);
    for (const t of traces) recorded(recs, t);
  });

  it("keep-alive race: the pooled connection's SYN is from before this trace's use, its FIN and RST within it", () => {
    const { p } = scenarioKeepaliveRace();
    const { traces } = stitch(p.lab.records);
    const race = traces.find((t) => t.race);
    expect(race).toBeDefined();
    recorded(p.lab.records, race!);
    const shared = race!.hops.filter((h) => h.shared);
    expect(shared.length).toBeGreaterThan(0);
    for (const h of shared) {
      // Dialed for an earlier request and reused: opened long before this trace's use.
      expect(Number(h.openedUs)).toBeGreaterThan(0);
      expect(Number(h.openedUs)).toBeLessThan(Number(h.useStartUs));
      for (const at of [Number(h.firstFinUs), Number(h.resetUs)].filter((x) => x > 0)) {
        expect(at).toBeLessThanOrEqual(Number(h.useEndUs));
      }
    }
    // The RST the reuse met, on the pooled connection.
    const rst = race!.hops.find((h) => h.index === race!.race!.sharedHop)!;
    expect(Number(rst.resetUs)).toBeGreaterThan(Number(rst.useStartUs));
  });
});
