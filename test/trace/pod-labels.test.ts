// Pod labels from the batches' pod directories onto the trace's endpoints:
// through the real batch codec into the stitcher, then HopEndpoint.labels.
import { describe, expect, it } from "vitest";
import { v1, type ConnEvent, type PodLabels, type Trace } from "../../src/model/mod.js";
import { Stitcher } from "../../src/trace/mod.js";
import { PodLabelDirectory } from "../../src/trace/pod-label-directory.js";
import { decodeBatch, encodeBatch } from "../../src/transport/mod.js";
import { scenarioOk } from "./helpers/scenarios.js";
import { toFixture } from "./helpers/stitch.js";

/** Each pod's labels: one frozen object per pod, as the agent hands them out. */
function labelsFor(pods: Iterable<string>): Map<string, PodLabels> {
  return new Map([...pods].map((p) => [p, Object.freeze({ app: p.replace(/^.*\//, ""), "tcptrail.io/test": "yes" })]));
}

function stitchThroughWire(events: ConnEvent[], node: string) {
  const traces: Trace[] = [];
  const stitcher = new Stitcher({ onTrace: (t) => void traces.push(t as Trace) });
  for (let i = 0; i < events.length; i += 5) {
    const batch = decodeBatch(encodeBatch({ node, bootId: "b", agentStartUs: 1 }, events.slice(i, i + 5)));
    stitcher.ingest(batch.node, batch.events);
  }
  stitcher.flush();
  return traces;
}

describe("pod labels on traces", () => {
  const recs = toFixture(scenarioOk());
  const node = recs[0]!.node;
  const events = recs.map((r, i) => ({ ...r.event, seq: i + 1 }) as ConnEvent);
  const labels = labelsFor(new Set(events.map((e) => e.pod).filter((p) => p !== "")));

  it("every traced endpoint of a labelled pod carries its labels, through the batch codec", () => {
    expect(labels.size).toBeGreaterThan(1);
    const labelled = events.map((e) => ({ ...e, podLabels: labels.get(e.pod) }));
    const traces = stitchThroughWire(labelled, node);
    expect(traces).toHaveLength(1);
    let checked = 0;
    for (const hop of traces[0]!.hops) {
      for (const end of [hop.client!, hop.server!]) {
        if (end.pod === "") continue;
        expect(end.labels).toEqual({ ...labels.get(end.pod ?? "")! });
        checked++;
      }
    }
    expect(checked).toBeGreaterThanOrEqual(4);
    // And they survive the trace's own encoding.
    const round = v1.Trace.decode(v1.Trace.encode(traces[0]!).finish());
    expect(round.hops[0]!.client!.labels).toEqual({ ...labels.get(round.hops[0]!.client!.pod ?? "")! });
  });

  it("events without labels give endpoints without labels", () => {
    const traces = stitchThroughWire(events, node);
    for (const hop of traces[0]!.hops) {
      expect(hop.client!.labels).toEqual({});
      expect(hop.server!.labels).toEqual({});
    }
  });
});

describe("PodLabelDirectory", () => {
  it("keeps the latest labels per pod and forgets the pod changed least recently past its bound", () => {
    const d = new PodLabelDirectory(2);
    const a1 = { app: "a" };
    const a2 = { app: "a", v: "2" };
    d.note("ns/a", a1);
    d.note("ns/b", { app: "b" });
    d.note("ns/a", a2);
    d.note("ns/c", { app: "c" });
    expect(d.get("ns/a")).toBe(a2);
    expect(d.get("ns/b")).toBeUndefined();
    expect(d.get("ns/c")).toEqual({ app: "c" });
    expect(d.get("")).toBeUndefined();
    expect(d.size).toBe(2);
  });
});
