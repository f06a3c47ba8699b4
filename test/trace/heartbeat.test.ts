// Stitcher.heartbeat: an idle node's agent says how far its event time got,
// so a trace that waits on that node settles at once instead of after
// stallMaxMs; a node that sends nothing (stalled) still holds it.
import { describe, expect, it } from "vitest";
import { Outcome, type ConnEvent, type Trace } from "../../src/model/mod.js";
import { Stitcher } from "../../src/trace/mod.js";
import { IDLE_NODE_REJECTED_PORT, idleNodeScenario } from "./helpers/idle-node.js";
import { toFixture } from "./helpers/stitch.js";

const IDLE_MS = 5_000;
const STEP_MS = 50;

interface Run {
  traces: Trace[];
  /** Wall ms from node-a's last event to the rejected connection's trace (-1: none). */
  settledAfterMs: number;
}

/**
 * Deliver the scenario in wall time (fake clock, a tick every STEP_MS), then
 * let `runMs` pass; node-b heartbeats every `heartbeatMs` with the watermark
 * its agent would send (its kernel time 100 ms ago) when given.
 */
function run(heartbeatMs: number | null, runMs: number, stallMaxMs = 30_000): Run {
  const records = toFixture(idleNodeScenario(IDLE_MS));
  const timeMs = (ev: ConnEvent) => Number(ev.timeUs) / 1000;
  let wall = timeMs(records[0]!.event);
  const traces: Trace[] = [];
  let settledAt = -1;
  const stitcher = new Stitcher({
    clock: () => wall,
    settleMs: 400,
    stallMaxMs,
    onTrace: (t) => {
      traces.push(t);
      if (t.hops[0]?.client?.port === IDLE_NODE_REJECTED_PORT) settledAt = wall;
    },
  });
  // node-b's clock pair, to turn wall time into its kernel time as its agent would.
  const b = records.find((r) => r.node === "node-b")!.event;
  const bNs = (wallMs: number) => b.tsNs + BigInt(Math.round((wallMs - timeMs(b)) * 1e6));
  const lastA = timeMs(records[records.length - 1]!.event);
  let i = 0;
  let nextBeat = heartbeatMs === null ? Infinity : wall + heartbeatMs;
  for (; wall <= lastA + runMs; wall += STEP_MS) {
    const batches = new Map<string, ConnEvent[]>();
    for (; i < records.length && timeMs(records[i]!.event) <= wall; i++) {
      const r = records[i]!;
      batches.set(r.node, [...(batches.get(r.node) ?? []), r.event]);
    }
    for (const [node, events] of batches) stitcher.ingest(node, events);
    // An agent sends heartbeats only in intervals it published nothing.
    if (wall >= nextBeat) {
      nextBeat += heartbeatMs!;
      if (!batches.has("node-b")) stitcher.heartbeat("node-b", bNs(wall - 100), Math.round((wall - 100) * 1000));
    }
    stitcher.tick(wall);
  }
  return { traces, settledAfterMs: settledAt < 0 ? -1 : settledAt - lastA };
}

describe("Stitcher.heartbeat", () => {
  it("without heartbeats a trace that waits on the idle node waits for stallMaxMs (the old behaviour, measured)", () => {
    const r = run(null, 12_000, 8_000);
    // node-b's last event was IDLE_MS before node-a's close: 8 s of its silence end 3 s after the close.
    expect(r.settledAfterMs).toBeGreaterThanOrEqual(8_000 - IDLE_MS - STEP_MS);
    expect(r.settledAfterMs).toBeLessThanOrEqual(8_000 - IDLE_MS + 2 * STEP_MS);
    const held = run(null, 2_500, 30_000);
    expect(held.settledAfterMs).toBe(-1);
  });

  it("with heartbeats every second from the idle node it settles within settleMs + 2 intervals", () => {
    const r = run(1000, 5_000);
    expect(r.settledAfterMs).toBeGreaterThanOrEqual(400);
    expect(r.settledAfterMs).toBeLessThanOrEqual(400 + 2 * 1000);
    const t = r.traces.find((x) => x.hops[0]?.client?.port === IDLE_NODE_REJECTED_PORT)!;
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_UNTRACED);
    // The first connection, across both nodes, is still one whole trace.
    expect(r.traces).toHaveLength(2);
    expect(r.traces.find((x) => x !== t)!.outcome).toBe(Outcome.OUTCOME_COMPLETED);
  });

  it("a watermark older than what the node already sent does not move its clock back, and an unknown node is ignored", () => {
    let wall = 0;
    const traces: Trace[] = [];
    const records = toFixture(idleNodeScenario(IDLE_MS));
    wall = Number(records[0]!.event.timeUs) / 1000;
    const s = new Stitcher({ clock: () => wall, settleMs: 400, onTrace: (t) => traces.push(t) });
    for (const r of records) s.ingest(r.node, [r.event]);
    const b = records.find((r) => r.node === "node-b")!.event;
    wall = Number(records[records.length - 1]!.event.timeUs) / 1000 + 10;
    s.heartbeat("node-b", b.tsNs, Number(b.timeUs));
    s.heartbeat("node-z", 5_000_000_000n, wall * 1000);
    s.tick(wall);
    expect(traces.some((t) => t.hops[0]?.client?.port === IDLE_NODE_REJECTED_PORT)).toBe(false);
  });
});
