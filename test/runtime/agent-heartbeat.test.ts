// Agent heartbeats end to end on a real nats-server: node-b's agent published
// its events and went idle; node-a's connection to node-b's address, answered
// by a REJECT, waits on node-b's clock. Without heartbeats it waits until
// node-b's silence passes stallMaxMs; with them it settles within about the
// consumer's settle time plus two intervals. Also: when an agent sends one
// (only idle, only what JetStream acked), and the wire format.
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { startConsumerService, type ConsumerService } from "../../src/consumer/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import { Outcome, v1, type ConnEvent } from "../../src/model/mod.js";
import { HeartbeatSender } from "../../src/runtime/mod.js";
import { AgentPublishing } from "../../src/runtime/agent-publishing.js";
import { decodeHeartbeat, encodeHeartbeat, isMalformedMessageError } from "../../src/transport/mod.js";
import { toFixture } from "../trace/helpers/stitch.js";
import { IDLE_NODE_REJECTED_PORT, idleNodeScenario } from "../trace/helpers/idle-node.js";
import { startHarness, type Harness } from "../consumer/helpers/harness.js";
import { waitFor } from "../helpers/mod.js";

const origin = { node: "node-b", bootId: "boot-1", agentStartUs: 1_700_000_000_000_000 };

describe("HeartbeatSender.tick", () => {
  function sender(state: { activity: number; acked: number; horizon: { tsNs: bigint; timeUs: number; seq: number } | undefined }) {
    const sent: { subject: string; data: Uint8Array }[] = [];
    const s = new HeartbeatSender({
      origin,
      publish: (subject, data) => void sent.push({ subject, data }),
      horizon: () => state.horizon,
      published: () => ({ ackedThroughSeq: state.acked, activity: state.activity }),
      logger: silentLogger,
    });
    return { s, sent };
  }

  it("sends only in an interval without publisher activity, once the released seqs are acked, and only when the horizon moved", () => {
    const state = { activity: 3, acked: 10, horizon: { tsNs: 5_000_000_000n, timeUs: 1_700_000_000_000_000, seq: 10 } as { tsNs: bigint; timeUs: number; seq: number } | undefined };
    const { s, sent } = sender(state);
    expect(s.tick()).toBe(false); // first look: activity not known as quiet yet
    expect(s.tick()).toBe(true); // quiet interval, seq 10 acked
    expect(sent).toHaveLength(1);
    expect(sent[0]!.subject).toBe("tcptrail.v1.heartbeats.node-b");
    expect(decodeHeartbeat(sent[0]!.data)).toEqual({ ...origin, lastSeq: 10, watermarkNs: 5_000_000_000n, watermarkTimeUs: 1_700_000_000_000_000 });
    expect(s.tick()).toBe(false); // the horizon did not move
    state.horizon = { tsNs: 6_000_000_000n, timeUs: 1_700_000_001_000_000, seq: 11 };
    expect(s.tick()).toBe(false); // seq 11 released, not acked yet
    state.acked = 11;
    state.activity++;
    expect(s.tick()).toBe(false); // it was published this interval: the batch said it
    expect(s.tick()).toBe(true);
    state.horizon = undefined; // bpftrace restarting
    expect(s.tick()).toBe(false);
    expect(s.sent).toBe(2);
  });
});

describe("heartbeat wire format", () => {
  it("round-trips a watermark past 2^53 ns exactly, and rejects what no agent sends", () => {
    const far = 2n ** 60n + 123_456_789n;
    const h = { ...origin, lastSeq: 42, watermarkNs: far, watermarkTimeUs: 1_700_000_000_000_001 };
    expect(decodeHeartbeat(encodeHeartbeat(h))).toEqual(h);
    const bad = (o: Record<string, unknown>) => {
      try {
        decodeHeartbeat(v1.Heartbeat.encode({ node: "n", lastSeq: 1, baseS: 5, watermarkOffsetNs: 1, watermarkTimeUs: 1, ...o }).finish());
        return "decoded";
      } catch (e) {
        return isMalformedMessageError(e) ? "malformed" : String(e);
      }
    };
    expect(bad({})).toBe("decoded");
    expect(bad({ node: "" })).toBe("malformed");
    expect(bad({ lastSeq: 0 })).toBe("malformed");
    expect(bad({ watermarkTimeUs: 0 })).toBe("malformed");
    expect(bad({ baseS: 0, watermarkOffsetNs: 0 })).toBe("malformed");
    expect(decodeThrows(new Uint8Array([0xff, 0xff, 0xff]))).toBe(true);
  });
});

function decodeThrows(b: Uint8Array): boolean {
  try {
    decodeHeartbeat(b);
    return false;
  } catch (e) {
    return isMalformedMessageError(e);
  }
}

describe("a trace that waits on an idle node (real nats-server, real consumer)", () => {
  let h: Harness | undefined;
  let consumer: ConsumerService | undefined;
  const closers: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await consumer?.stop();
    consumer = undefined;
    await h?.close();
    h = undefined;
  });

  /** Publish the scenario (its times moved to now) as node-a and node-b; ms from the last publish to the waiting trace on NATS. */
  async function settleTime(heartbeatMs: number | null, stallMaxMs: number): Promise<number> {
    h = await startHarness();
    const harness = h;
    consumer = await startConsumerService({ nc: harness.nc, store: harness.store, durableName: harness.durable, stitcher: { stallMaxMs } });
    const records = toFixture(idleNodeScenario(3_000));
    const shiftUs = Date.now() * 1000 - Number(records[records.length - 1]!.event.timeUs);
    const byNode = new Map<string, ConnEvent[]>();
    for (const r of records) {
      r.event.timeUs += shiftUs;
      byNode.set(r.node, [...(byNode.get(r.node) ?? []), r.event]);
    }
    const run = randomBytes(4).toString("hex");
    const publishing = new Map<string, AgentPublishing>();
    const agentStartUs = Date.now() * 1000;
    for (const node of ["node-a", "node-b"]) {
      const p = await AgentPublishing.start({ js: harness.js, node, bootId: `boot-${run}`, agentStartUs, logger: silentLogger });
      closers.push(() => p.stop(1000));
      publishing.set(node, p);
    }
    const b = publishing.get("node-b")!;
    const bEvents = byNode.get("node-b")!;
    const ref = bEvents[0]!;
    if (heartbeatMs !== null) {
      // node-b's agent: idle, its horizon its kernel clock 100 ms ago (its reorder window), all released seqs published.
      const hb = new HeartbeatSender({
        origin: { node: "node-b", bootId: `boot-${run}`, agentStartUs },
        publish: (subject, data) => harness.nc.publish(subject, data),
        horizon: () => {
          const wallUs = (Date.now() - 100) * 1000;
          return { tsNs: ref.tsNs + BigInt(wallUs - Number(ref.timeUs)) * 1000n, timeUs: wallUs, seq: bEvents[bEvents.length - 1]!.seq };
        },
        published: () => b.progress(),
        intervalMs: heartbeatMs,
        logger: silentLogger,
      });
      closers.push(() => hb.stop());
      hb.start();
    }
    // As the agents would: the first connection's events of both nodes, then,
    // once they were consumed and node-b went quiet, node-a's rejected one.
    const a = publishing.get("node-a")!;
    const aEvents = byNode.get("node-a")!;
    const firstA = aEvents.filter((e) => e.timeUs <= bEvents[bEvents.length - 1]!.timeUs);
    b.publisher.push(bEvents);
    a.publisher.push(firstA);
    await Promise.all([b.publisher.flush(5000), a.publisher.flush(5000)]);
    // Consumed and out of the stitcher's reorder windows (node-b's is released
    // by a tick once it is quiet): node-a's next batch moves its clock 3 s on at
    // once, which real agents publishing as it happens never do.
    await waitFor(() => consumer!.stats().eventsConsumed === bEvents.length + firstA.length && consumer!.stats().stitcher.buffered === 0, {
      what: "the first connection's events consumed",
    });
    a.publisher.push(aEvents.slice(firstA.length));
    await a.publisher.flush(5000);
    const published = Date.now();
    const waiting = await waitFor(() => harness.traces.find((t) => t.trace.hops[0]?.client?.port === IDLE_NODE_REJECTED_PORT), {
      what: "the trace that waits on node-b",
      timeoutMs: stallMaxMs + 5_000,
    });
    const ms = Date.now() - published;
    expect(waiting.trace.hops).toHaveLength(1);
    // The first connection, across both nodes, is one whole trace, and the second settled without splitting anything.
    await waitFor(() => harness.traces.length >= 2, { what: "both traces" });
    expect(harness.traces.map((t) => [t.trace.outcome, t.trace.hops.length])).toEqual([
      [Outcome.OUTCOME_COMPLETED, 3],
      [Outcome.OUTCOME_RESET_UNTRACED, 1],
    ]);
    return ms;
  }

  it("without heartbeats it waits for node-b's silence to pass stallMaxMs", async () => {
    const ms = await settleTime(null, 4_000);
    expect(ms).toBeGreaterThanOrEqual(3_500);
  }, 20_000);

  it("with heartbeats every 500 ms it settles within settleMs (400) + 2 intervals", async () => {
    const ms = await settleTime(500, 30_000);
    expect(ms).toBeLessThanOrEqual(400 + 2 * 500 + 200);
  }, 20_000);
});
