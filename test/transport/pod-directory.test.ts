// The pod directory of a batch (EventBatch.pods): labels travel once per pod
// per batch, the bytes are the generated encoder's, and decoding gives every
// event of a listed pod its labels back (through the batch cutter too).
import protobuf from "protobufjs";
import { describe, expect, test } from "vitest";
import { synthesizeChurnRecording } from "../../bench/synthetic-churn.js";
import { EventPipeline } from "../../src/agent/mod.js";
import { EventKind, baseSecondsOf, emptyWireEvent, toWireEvent, v1, type ConnEventInit, type PodLabels } from "../../src/model/mod.js";
import { BatchCutter, type EncodedBatch } from "../../src/transport/batch-cutter.js";
import { decodeBatch, encodeBatch, type BatchOrigin } from "../../src/transport/mod.js";

const origin: BatchOrigin = { node: "node-1", bootId: "boot", agentStartUs: 1_764_000_000_000_000 };
const WEB: PodLabels = Object.freeze({ app: "web", tier: "front" });
const DB: PodLabels = Object.freeze({ app: "db" });

/** Header, events, then the directory: each a piece written by the generated encoder. */
function generatedBatch(events: readonly ConnEventInit[], pods: { netns: number; pod: string; labels: PodLabels }[]): Uint8Array {
  let earliest = events[0]!.tsNs;
  for (const e of events) if (e.tsNs < earliest) earliest = e.tsNs;
  const baseS = baseSecondsOf(earliest);
  const baseNs = BigInt(baseS) * 1_000_000_000n;
  const w = protobuf.Writer.create();
  v1.EventBatch.encode({ ...origin, firstSeq: events[0]?.seq ?? 0, baseS }, w);
  const wire = emptyWireEvent();
  for (const e of events) v1.EventBatch.encode({ events: [toWireEvent(e, baseNs, wire)] }, w);
  for (const p of pods) v1.EventBatch.encode({ pods: [{ netns: p.netns, pod: p.pod, labels: { ...p.labels } }] }, w);
  return w.finish();
}

const ev = (seq: number, netns: number, pod: string, podLabels?: PodLabels): ConnEventInit => ({
  seq,
  kind: EventKind.EVENT_KIND_STATE_CHANGE,
  tsNs: 5_000_000_000n + BigInt(seq),
  netns,
  pod,
  podLabels,
});

describe("pod directory", () => {
  const events = [ev(1, 11, "shop/web", WEB), ev(2, 22, "shop/db", DB), ev(3, 11, "shop/web", WEB), ev(4, 33, "node-1"), ev(5, 22, "shop/db", DB)];

  test("lists each labelled pod once, after the events, as the generated encoder writes it", () => {
    const bytes = encodeBatch(origin, events);
    const expected = generatedBatch(events, [
      { netns: 11, pod: "shop/web", labels: WEB },
      { netns: 22, pod: "shop/db", labels: DB },
    ]);
    expect(Buffer.from(bytes).equals(Buffer.from(expected))).toBe(true);
    const raw = v1.EventBatch.decode(bytes);
    expect(raw.pods.map((p) => [p.netns, p.pod, p.labels])).toEqual([
      [11, "shop/web", { app: "web", tier: "front" }],
      [22, "shop/db", { app: "db" }],
    ]);
  });

  test("decoding gives each event of a listed pod its labels, one shared object per pod", () => {
    const out = decodeBatch(encodeBatch(origin, events)).events;
    expect(out.map((e) => e.podLabels)).toEqual([WEB, DB, WEB, undefined, DB]);
    expect(out[0]!.podLabels).toBe(out[2]!.podLabels);
    expect(Object.isFrozen(out[0]!.podLabels)).toBe(true);
  });

  test("an entry does not label an event of another pod that reuses its namespace inode", () => {
    const out = decodeBatch(encodeBatch(origin, [ev(1, 11, "shop/web", WEB), ev(2, 11, "shop/other")])).events;
    expect(out.map((e) => e.podLabels)).toEqual([WEB, undefined]);
  });

  test("a batch without labels is byte for byte what it was without the directory", () => {
    const plain = events.map((e) => ({ ...e, podLabels: undefined }));
    expect(Buffer.from(encodeBatch(origin, plain)).equals(Buffer.from(generatedBatch(plain, [])))).toBe(true);
  });

  test("the batch cutter writes the same bytes and starts each batch's directory afresh", () => {
    const batches: EncodedBatch[] = [];
    const cutter = new BatchCutter({ origin, maxBatchEvents: 3, maxBatchDelayMs: 1000, onBatch: (b) => batches.push(b) });
    cutter.push(events);
    cutter.flush();
    cutter.stop();
    expect(batches).toHaveLength(2);
    expect(Buffer.from(batches[0]!.bytes).equals(Buffer.from(encodeBatch(origin, events.slice(0, 3))))).toBe(true);
    expect(Buffer.from(batches[1]!.bytes).equals(Buffer.from(encodeBatch(origin, events.slice(3))))).toBe(true);
    // The second batch names shop/db again: it lists it again, and only it.
    expect(v1.EventBatch.decode(batches[1]!.bytes).pods.map((p) => p.pod)).toEqual(["shop/db"]);
  });

  test("the agent pipeline hands events the resolver's labels, and a churn's batches carry one entry per pod", () => {
    const out: ConnEventInit[] = [];
    const labels = (ns: number): PodLabels | undefined => (ns % 2 ? WEB : undefined);
    const p = new EventPipeline({ settings: { node: "n" }, sink: (evs) => out.push(...evs), pods: { resolve: (ns) => (ns % 2 ? "shop/web" : "shop/plain"), labels } });
    for (const l of synthesizeChurnRecording({ pairs: 500, rstShare: 0.5 })) p.feedLine(l);
    p.stopSync();
    const named = out.filter((e) => e.netns);
    expect(named.length).toBeGreaterThan(1000);
    for (const e of named) expect(e.podLabels).toBe(labels(e.netns!));
    for (let i = 0; i < out.length; i += 1000) {
      const batch = out.slice(i, i + 1000);
      const raw = v1.EventBatch.decode(encodeBatch(origin, batch));
      const labelled = new Set(batch.filter((e) => e.podLabels).map((e) => e.netns));
      expect(raw.pods.map((x) => x.netns).sort()).toEqual([...labelled].sort());
    }
  });
});
