// A stalled agent (SIGSTOP, a long GC, a partition) must not split a
// connection: its node's events stop while the consumer's wall clock and the
// other nodes' events go on, then they all arrive late. The stitcher waits on
// the node's event time (NodeState.nowMs), so each connection is still one
// trace. Delivered here as the transport would: each event when the wall
// clock reaches its time, the stalled node's held back until it resumes.
import { describe, expect, it } from "vitest";
import { Outcome, type ConnEvent, type Trace } from "../../src/model/mod.js";
import { Stitcher, type StitcherOptions } from "../../src/trace/mod.js";
import { MeshLab, type Pod } from "./helpers/mesh-lab.js";
import { closeCleanly, meshChain, podA, podB } from "./helpers/scenarios.js";
import type { FixtureRecord } from "./helpers/load-fixture.js";
import { toFixture } from "./helpers/stitch.js";

const MS = 1_000_000;
const STEP_MS = 50;

interface Stall {
  node: string;
  /** Wall µs from which the node's events are held back. */
  fromUs: number;
  forMs: number;
}

/**
 * Connections between pods on two nodes, one after the other, alternating
 * direction (every hop but the sidecar-to-sidecar one stays on one node), each
 * open for `lifeMs`, so that a stall starts and ends in the middle of some.
 */
function twoNodeTraffic(n: number, lifeMs: number): { records: FixtureRecord[]; a: Pod; b: Pod } {
  const lab = new MeshLab({ "node-a": { offsetNs: 7_000_000_000 }, "node-b": { offsetNs: 900_000_000_000 } });
  const a = podA("node-a");
  const b = podB("node-b");
  for (let i = 0; i < n; i++) {
    const [from, to] = i % 2 === 0 ? [a, b] : [b, a];
    const chain = meshChain(lab, from, to, 8080, true, 41001 + 3 * i);
    lab.wait(from.node, lifeMs * MS);
    closeCleanly(lab, chain);
    lab.wait(from.node, 50 * MS);
  }
  return { records: toFixture(lab.records), a, b };
}

/** Replay `records` in wall time (fake clock, tick every STEP_MS), holding back `stall.node`'s events for `stall.forMs`. */
function replayWithStall(records: readonly FixtureRecord[], stall: Stall | null, opts: StitcherOptions = {}): { traces: Trace[]; stitcher: Stitcher } {
  const traces: Trace[] = [];
  const timeMs = (r: FixtureRecord) => Number(r.event.timeUs) / 1000;
  let wall = timeMs(records[0]!);
  const stitcher = new Stitcher({ ...opts, clock: () => wall, onTrace: (t) => traces.push(t) });
  const resumeMs = stall ? stall.fromUs / 1000 + stall.forMs : 0;
  let held: FixtureRecord[] = [];
  let i = 0;
  const lastMs = timeMs(records[records.length - 1]!);
  for (; i < records.length || held.length > 0 || wall < lastMs + 5_000; wall += STEP_MS) {
    const batches = new Map<string, ConnEvent[]>();
    const add = (r: FixtureRecord) => {
      const list = batches.get(r.node) ?? [];
      list.push(r.event);
      batches.set(r.node, list);
    };
    // The stalled agent resumes: its backlog first, in its order, then what is new.
    if (stall && wall >= resumeMs && held.length > 0) {
      for (const r of held) add(r);
      held = [];
    }
    for (; i < records.length && timeMs(records[i]!) <= wall; i++) {
      const r = records[i]!;
      if (stall && r.node === stall.node && Number(r.event.timeUs) >= stall.fromUs && wall < resumeMs) held.push(r);
      else add(r);
    }
    for (const [node, events] of batches) stitcher.ingest(node, events);
    stitcher.tick(wall);
  }
  return { traces, stitcher };
}

/** Each connection's trace: one per app A/B client port, with every socket of its three hops. */
function expectOneWholeTracePerConnection(traces: readonly Trace[], n: number): void {
  expect(traces).toHaveLength(n);
  const ports = traces.map((t) => t.hops[0]?.client?.port).sort((x, y) => (x ?? 0) - (y ?? 0));
  expect(ports).toEqual(Array.from({ length: n }, (_, i) => 41001 + 3 * i));
  for (const t of traces) {
    expect(t.outcome).toBe(Outcome.OUTCOME_COMPLETED);
    expect(t.hops).toHaveLength(3);
    for (const h of t.hops) {
      expect(h.client?.socketId).toBeTruthy();
      expect(h.server?.socketId).toBeTruthy();
    }
  }
}

describe("a node whose agent stalls", () => {
  const N = 40;
  const { records } = twoNodeTraffic(N, 300);
  const startUs = Number(records[0]!.event.timeUs);

  it("without a stall: every connection one whole trace (the replay itself splits nothing)", () => {
    const { traces } = replayWithStall(records, null);
    expectOneWholeTracePerConnection(traces, N);
  });

  for (const node of ["node-a", "node-b"]) {
    it(`${node} silent for 10 s of wall time mid-connection, then its backlog: still one trace per connection, outcomes right`, () => {
      // 2.05 s in: inside the 6th connection, after its first events.
      const stall = { node, fromUs: startUs + 2_050_000, forMs: 10_000 };
      const { traces, stitcher } = replayWithStall(records, stall);
      expectOneWholeTracePerConnection(traces, N);
      expect(stitcher.stats()).toMatchObject({ traces: N, incomplete: 0, liveSockets: 0 });
    });
  }

  it("a node silent past stallMaxMs is presumed gone: what waited on it is finished without it", () => {
    const stall = { node: "node-b", fromUs: startUs + 2_050_000, forMs: 10_000 };
    const { traces } = replayWithStall(records, stall, { stallMaxMs: 3_000 });
    // Connections whose node-b end was held longer than the stall bound split (their halves come separately).
    expect(traces.length).toBeGreaterThan(N);
    expect(traces.some((t) => t.outcome === Outcome.OUTCOME_INCOMPLETE)).toBe(true);
  });
});
