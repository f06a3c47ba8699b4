// Events an agent read and never got published (NATS stopped acking, its
// queue overflowed, the close deadline passed) are counted at stop, saved as
// the run's high-water under the state dir, and the next start publishes a
// GAP for them in that run's stream: the exact count, the kernel span from
// the last published event to the last read one, and the reason. A real
// in-thread Agent fed a bpftrace recording, a real publisher, a real
// nats-server that goes away; no bpftrace.
import { copyFileSync, existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Agent } from "../../src/agent/mod.js";
import { createMetrics, type TcptrailMetrics } from "../../src/metrics/mod.js";
import { EventKind, type ConnEvent } from "../../src/model/mod.js";
import { AgentPublishing } from "../../src/runtime/agent-publishing.js";
import { highWaterPath } from "../../src/runtime/high-water-file.js";
import { CRASH_SEQ_MARGIN } from "../../src/runtime/unpublished-gap.js";
import { isHighWaterRecord, type HighWaterRecord } from "../../src/runtime/unpublished-ledger.js";
import { silentLogger } from "../../src/log/logger.js";
import { connectNats, jetstream, subscribeEvents, type NatsConnection } from "../../src/transport/mod.js";
import { makeTempDir, setupNats, waitFor, type NatsSetup, type TempDir } from "../helpers/mod.js";

const RECORDING = new URL("../probes/fixtures/loopback-basics.txt", import.meta.url);
const lines = readFileSync(RECORDING, "utf8").split("\n").filter((l) => l.length > 0);
const NODE = "gap-node";
const BOOT = "boot-unpublished-test";

let nats: NatsSetup;
let state: TempDir;
const connections: NatsConnection[] = [];

beforeEach(async () => {
  nats = await setupNats({ label: "unpublished-gap" });
  state = await makeTempDir("agent-state");
});
afterEach(async () => {
  for (const nc of connections.splice(0)) await nc.close().catch(() => undefined);
  await nats.close();
  await state.remove();
});

async function connect(): Promise<NatsConnection> {
  const nc = await connectNats(nats.server.url, { name: "unpublished-test", maxReconnectAttempts: 0 });
  connections.push(nc);
  return nc;
}

interface Run {
  agent: Agent;
  publishing: AgentPublishing;
  metrics: TcptrailMetrics;
  /** Non-GAP events the agent released, by seq. */
  released: Map<number, bigint>;
}

async function startRun(nc: NatsConnection, agentStartUs: number, publisher: { maxBatchEvents: number; maxQueuedEvents?: number }): Promise<Run> {
  const metrics = createMetrics({ defaultMetrics: false });
  const publishing = await AgentPublishing.start({
    js: jetstream(nc),
    node: NODE,
    bootId: BOOT,
    agentStartUs,
    logger: silentLogger,
    metrics,
    stateDir: state.path,
    saveEveryMs: 20,
    publisher: { ...publisher, maxBatchDelayMs: 5, publishTimeoutMs: 200, retryInitialMs: 10, retryMaxMs: 20 },
  });
  const released = new Map<number, bigint>();
  const agent = new Agent({
    node: NODE,
    pods: { resolve: () => "" },
    reorderWindowMs: 1,
    sink: (events) => {
      for (const e of events) if (e.kind !== EventKind.EVENT_KIND_GAP) released.set(e.seq!, e.tsNs);
      publishing.publisher.push(events);
    },
  });
  publishing.bind(agent);
  return { agent, publishing, metrics, released };
}

async function stopRun(r: Run, closeTimeoutMs: number): Promise<number> {
  r.publishing.beginStop();
  await r.agent.stop();
  return (await r.publishing.stop(closeTimeoutMs)).unpublished;
}

async function streamEvents(nc: NatsConnection): Promise<{ agentStartUs: number; event: ConnEvent }[]> {
  const sub = await subscribeEvents(nc, { node: NODE, since: new Date(0) });
  const out: { agentStartUs: number; event: ConnEvent }[] = [];
  for await (const { batch } of sub) for (const event of batch.events) out.push({ agentStartUs: batch.agentStartUs, event });
  return out;
}

const counter = async (m: TcptrailMetrics) => (await m.eventsUnpublished.get()).values[0]?.value ?? 0;
const records = () => readdirSync(state.path).filter((n) => n.endsWith(".json"));

describe("events read but never published", () => {
  it("NATS stops acking: the stop counts them, the next start publishes a GAP with that count and span", async () => {
    const nc1 = await connect();
    const t1 = Date.now() * 1000;
    const run1 = await startRun(nc1, t1, { maxBatchEvents: 4 });
    const cut = Math.floor(lines.length * 0.6);
    for (const l of lines.slice(0, cut)) run1.agent.feed(l);
    run1.agent.tick();
    await run1.agent.stop(); // releases what is buffered: the first part, all of it
    expect(await run1.publishing.publisher.flush(5000)).toBe(true);
    const publishedSeqs = [...run1.released.keys()];
    expect(publishedSeqs.length).toBeGreaterThan(0);

    // NATS goes away; the rest is read and released, but never acked.
    await nats.server.stop();
    for (const l of lines.slice(cut)) run1.agent.feed(l);
    const unpublished = await stopRun(run1, 300);
    const lost = [...run1.released.keys()].filter((s) => !publishedSeqs.includes(s));
    expect(lost.length).toBeGreaterThan(0);
    expect(unpublished).toBe(lost.length);
    expect(await counter(run1.metrics)).toBe(lost.length);
    const record = JSON.parse(readFileSync(highWaterPath(state.path, { node: NODE, bootId: BOOT, agentStartUs: t1 }), "utf8")) as HighWaterRecord;
    expect(isHighWaterRecord(record)).toBe(true);
    expect(record).toMatchObject({ final: true, unpublished: lost.length, lastSeq: Math.max(...run1.released.keys()) });
    await nc1.close(); // whatever the client still buffered dies with it, as with the agent's process

    // The next start: the GAP first, in run 1's stream, after its last seq.
    await nats.server.restart();
    const nc2 = await connect();
    const run2 = await startRun(nc2, t1 + 1_000_000, { maxBatchEvents: 4 });
    expect(records()).toEqual([]);
    const got = await streamEvents(nc2);
    const gaps = got.filter((g) => g.event.kind === EventKind.EVENT_KIND_GAP);
    expect(gaps).toHaveLength(1);
    const gap = gaps[0]!;
    expect(gap.agentStartUs).toBe(t1);
    expect(gap.event.lost).toBe(lost.length);
    expect(gap.event.gapReason).toBe(`agent stopped with ${lost.length} unpublished events`);
    expect(gap.event.seq).toBe(record.lastSeq + 1);
    // The span: from the last published event to the last one read.
    expect(gap.event.gapStartNs).toBe(run1.released.get(Math.max(...publishedSeqs)));
    expect(gap.event.tsNs).toBe(run1.released.get(Math.max(...lost)));
    // Everything published once, nothing that was lost.
    const kernel = got.filter((g) => g.event.kind !== EventKind.EVENT_KIND_GAP).map((g) => g.event.seq);
    expect(kernel).toEqual(publishedSeqs);
    await stopRun(run2, 1000);
  });

  it("a tiny queue sheds while NATS is away: at stop every event read is counted once, markers and sheds included", async () => {
    const nc1 = await connect();
    const t1 = Date.now() * 1000;
    const run1 = await startRun(nc1, t1, { maxBatchEvents: 2, maxQueuedEvents: 3 });
    await nats.server.stop();
    for (const l of lines) {
      run1.agent.feed(l);
      run1.agent.tick();
    }
    const unpublished = await stopRun(run1, 200);
    expect(run1.publishing.publisher.stats().dropped).toBeGreaterThan(0); // it did shed
    expect(unpublished).toBe(run1.agent.stats().eventsRead);
    expect(unpublished).toBe(run1.released.size);
    await nc1.close();

    await nats.server.restart();
    const nc2 = await connect();
    const run2 = await startRun(nc2, t1 + 1, { maxBatchEvents: 2 });
    const got = await streamEvents(nc2);
    expect(got.map((g) => [g.event.kind, g.event.lost])).toEqual([[EventKind.EVENT_KIND_GAP, unpublished]]);
    await stopRun(run2, 1000);
  });

  it("a run that crashed leaves its periodic save: the next start publishes a GAP saying so, past any seq the run can have used", async () => {
    const nc1 = await connect();
    const t1 = Date.now() * 1000;
    const run1 = await startRun(nc1, t1, { maxBatchEvents: 4 });
    for (const l of lines) run1.agent.feed(l);
    run1.agent.tick();
    await run1.agent.stop();
    expect(await run1.publishing.publisher.flush(5000)).toBe(true);
    const path = highWaterPath(state.path, { node: NODE, bootId: BOOT, agentStartUs: t1 });
    const saved = await waitFor(() => {
      if (!existsSync(path)) return undefined;
      const r = JSON.parse(readFileSync(path, "utf8")) as HighWaterRecord;
      return r.lastSeq === Math.max(...run1.released.keys()) && r.unpublished === 0 ? r : undefined;
    }, { what: "the periodic save of the last seq, all of it published" });
    expect(saved.final).toBe(false);
    // A crash leaves this file behind; a clean stop would remove it.
    const aside = join(state.path, "crash-copy");
    copyFileSync(path, aside);
    await stopRun(run1, 1000);
    expect(existsSync(path)).toBe(false);
    copyFileSync(aside, path);

    const run2 = await startRun(await connect(), t1 + 1, { maxBatchEvents: 4 });
    const gaps = (await streamEvents(connections.at(-1)!)).filter((g) => g.event.kind === EventKind.EVENT_KIND_GAP);
    expect(gaps).toHaveLength(1);
    expect(gaps[0]!.agentStartUs).toBe(t1);
    expect(gaps[0]!.event.seq).toBe(saved.lastSeq + CRASH_SEQ_MARGIN);
    expect(gaps[0]!.event.gapReason).toMatch(/without a clean shutdown/);
    expect(gaps[0]!.event.gapStartNs).toBe(BigInt(saved.spanStartNs));
    expect(existsSync(path)).toBe(false);
    await stopRun(run2, 1000);
  });
});
