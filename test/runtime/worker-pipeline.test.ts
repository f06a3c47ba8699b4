// The agent pipeline in a worker thread (what the agent service runs): raw
// bpftrace output in, encoded EventBatch payloads out, the same events as the
// in-thread pipeline gives for the same input; GAPs for queue drops and
// bpftrace restarts; read-ahead bounded. No bpftrace, no NATS: the recorded
// probe output is fed as stdout chunks would arrive.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { Agent, type PipelineHooks } from "../../src/agent/mod.js";
import { isInvalidArgumentError } from "../../src/errors/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import { EventKind, type ConnEvent, type ConnEventInit } from "../../src/model/mod.js";
import { WorkerPipeline, workerPipeline } from "../../src/runtime/mod.js";
import { decodeBatch, encodeBatch, type EncodedBatch } from "../../src/transport/mod.js";
import { waitFor } from "../helpers/mod.js";

const RECORDED = readFileSync(new URL("../probes/fixtures/loopback-basics.txt", import.meta.url));
const origin = { node: "node-w", bootId: "boot", agentStartUs: 5 };
const batching = { origin, maxBatchEvents: 16, maxBatchDelayMs: 5 };

/** Each chunk a Buffer of its own, as a pipe read gives them, cut every `size` bytes (mid-line). */
function chunks(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(Buffer.from(new Uint8Array(bytes.subarray(i, i + size)).buffer));
  return out;
}

/** What a consumer sees of an event, minus the wall clock (each agent learns it at its own BEGIN). */
const seen = (e: ConnEvent) => ({ ...e, timeUs: undefined });

function workerAgent(): { agent: Agent; batches: EncodedBatch[] } {
  const batches: EncodedBatch[] = [];
  const agent = new Agent({ node: origin.node, logger: silentLogger, pipeline: workerPipeline({ batching, onBatch: (b) => batches.push(b) }) });
  return { agent, batches };
}

const decodeAll = (batches: EncodedBatch[]): ConnEvent[] => batches.flatMap((b) => decodeBatch(b.bytes).events);

describe("the worker pipeline", () => {
  test("gives the same events as the in-thread pipeline, encoded in batches that follow each other", async () => {
    const inThread: ConnEventInit[] = [];
    const ref = new Agent({ node: origin.node, sink: (evs) => inThread.push(...evs) });
    for (const line of RECORDED.toString("utf8").split("\n")) ref.feed(line);
    await ref.stop();

    const { agent, batches } = workerAgent();
    for (const chunk of chunks(RECORDED, 7)) agent.feedChunk(chunk);
    await agent.stop(); // every batch is delivered when stop() resolves

    const got = decodeAll(batches);
    expect(got.length).toBeGreaterThan(40);
    expect(got.map(seen)).toEqual(decodeBatch(encodeBatch(origin, inThread)).events.map(seen));
    let next = 1;
    for (const b of batches) {
      expect(b.firstSeq).toBe(next);
      expect(b.msgID).toBe(`${origin.node}:${origin.bootId}:${origin.agentStartUs}:${b.firstSeq}`);
      next += b.count;
    }
    const s = agent.stats();
    expect(s.eventsReleased).toBe(got.length);
    expect(s.linesRead).toBe(RECORDED.toString("utf8").split("\n").filter(Boolean).length);
    expect(s.malformedLines).toBe(0);
  });

  test("counters reach the main thread while it runs, not only at stop", async () => {
    const { agent } = workerAgent();
    try {
      for (const chunk of chunks(RECORDED, 4096)) agent.feedChunk(chunk);
      await waitFor(() => agent.stats().eventsRead > 40 || undefined, { what: "the worker's counters" });
    } finally {
      await agent.stop();
    }
  });

  test("the publisher's queue drops, reported on the main thread, become a GAP in the worker's stream", async () => {
    const { agent, batches } = workerAgent();
    const text = RECORDED.toString("utf8");
    for (const line of text.split("\n")) agent.feed(line);
    agent.reportDropped(5, 842_111_000_000n, 842_112_000_000n);
    await agent.stop();
    const gaps = decodeAll(batches).filter((e) => e.kind === EventKind.EVENT_KIND_GAP);
    expect(gaps.map((g) => [g.lost, g.gapStartNs, /queue full/.test(g.gapReason)])).toEqual([[5, 842_111_000_000n, true]]);
    expect(agent.stats().queueDropped).toBe(5);
  });

  test("a crash noted before the next BEGIN becomes a GAP from the last event seen to that BEGIN", async () => {
    const batches: EncodedBatch[] = [];
    const begins: bigint[] = [];
    const hooks: PipelineHooks = { onBegin: (ts) => begins.push(ts), onDrain: () => undefined };
    const p = new WorkerPipeline({ settings: { node: "n" }, logger: silentLogger, hooks }, { batching, onBatch: (b) => batches.push(b) });
    p.feedLine("B 1000");
    p.feedLine("S 2000 ffff1 1 4");
    p.noteCrash("bpftrace restarted (exit SIGKILL)");
    p.feedLine("S 2500 ffff1 4 5"); // the dead bpftrace's last line, read after its exit was noticed
    p.feedLine("B 9000");
    await p.stop();
    expect(begins).toEqual([1000n, 9000n]);
    const gap = decodeAll(batches).find((e) => e.kind === EventKind.EVENT_KIND_GAP);
    expect(gap).toMatchObject({ tsNs: 9000n, gapStartNs: 2000n, gapReason: "bpftrace restarted (exit SIGKILL)" });
  });

  test("stops asking for output beyond its read-ahead, and asks again once the worker caught up", async () => {
    let drained = 0;
    const hooks: PipelineHooks = { onBegin: () => undefined, onDrain: () => drained++ };
    const p = new WorkerPipeline({ settings: { node: "n" }, logger: silentLogger, hooks }, { batching, onBatch: () => undefined, maxPendingBytes: 64 * 1024 });
    try {
      const answers: boolean[] = [];
      // Sent in one turn, faster than any worker parses: the bound is reached.
      for (let i = 0; i < 64; i++) answers.push(p.feedChunk(Buffer.from(new Uint8Array(RECORDED).buffer)));
      expect(answers[0]).toBe(true);
      expect(answers.at(-1)).toBe(false);
      await waitFor(() => drained === 1 || undefined, { what: "the worker to catch up" });
      expect(p.feedChunk(Buffer.from(new Uint8Array(RECORDED).buffer))).toBe(true);
    } finally {
      await p.stop();
    }
  });

  test("a caller's PodResolver cannot cross to the worker: refused at construction", () => {
    let err: unknown;
    try {
      new Agent({ node: "n", pods: { resolve: () => "x" }, pipeline: workerPipeline({ batching, onBatch: () => undefined }) });
    } catch (e) {
      err = e;
    }
    expect(isInvalidArgumentError(err) && err.property).toBe("pods");
  });
});
