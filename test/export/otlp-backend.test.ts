// A tracing backend that fails must cost tcptrail nothing but the spans it
// loses, counted: an error status (500: not retried; 503: retried by the
// exporter, within its timeout), a backend that is down (connections
// refused, retried, then given up), a queue that fills and drops whole
// traces, a close that does not wait past its bound; meanwhile push() stays
// synchronous and the stitcher emits every trace. Headers from
// OTEL_EXPORTER_OTLP_HEADERS reach the backend.
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startOtlpExport, type OtlpExport, type OtlpExportOptions } from "../../src/export/otlp/mod.js";
import type { Trace } from "../../src/model/mod.js";
import { Stitcher } from "../../src/trace/mod.js";
import { waitFor } from "../helpers/mod.js";
import { loadFixture, replay } from "../trace/helpers/load-fixture.js";
import { stitch } from "../trace/helpers/stitch.js";
import { startOtlpReceiver, type OtlpReceiver } from "./helpers/otlp-receiver.js";

const fixture = (name: string) => loadFixture(new URL(`../trace/fixtures/lab/${name}.json`, import.meta.url).pathname);
const SCENARIOS = ["ok", "app-abort", "no-listener", "sidecar-crash", "idle-timeout", "plain-to-mesh"];
/** Every lab scenario's traces, each with the spans it makes (one per traced socket). */
const labTraces = (): { trace: Trace; spans: number }[] =>
  SCENARIOS.flatMap((n) => stitch(fixture(n)).traces).map((trace) => ({
    trace,
    spans: trace.hops.flatMap((h) => [h.client, h.server]).filter((ep) => ep?.socketId).length,
  }));

let receiver: OtlpReceiver;
let otlp: OtlpExport | undefined;
let registry: Registry;
const start = (o: Partial<OtlpExportOptions> = {}) =>
  (otlp = startOtlpExport({ endpoint: receiver.endpoint, flushMs: 1, metrics: { registry }, ...o }));
const metric = async (name: string): Promise<number> => {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values[0]?.value ?? 0;
};

beforeEach(async () => {
  registry = new Registry();
  receiver = await startOtlpReceiver();
});
afterEach(async () => {
  await otlp?.close();
  otlp = undefined;
  await receiver.close();
  delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
});

describe("a failing backend", () => {
  it("500: the request fails without a retry, is counted with its spans, and the next trace goes through once it recovers", async () => {
    const [a, b] = labTraces();
    receiver.respondWith(500);
    const x = start();
    x.push(a!.trace);
    await waitFor(() => x.stats().failures === 1, { what: "one failed export" });
    expect(receiver.requests).toHaveLength(1);
    expect(x.stats()).toMatchObject({ exported: 0, failures: 1, failedSpans: a!.spans, dropped: 0 });
    expect(await metric("tcptrail_otlp_export_failures_total")).toBe(1);
    expect(await metric("tcptrail_otlp_failed_spans_total")).toBe(a!.spans);

    receiver.respondWith(200);
    x.push(b!.trace);
    // Exported once the backend's answer is in (it records the spans just before answering).
    await waitFor(() => x.stats().exported === b!.spans, { what: "the next trace's spans accepted" });
    expect(receiver.spans).toHaveLength(b!.spans);
    expect(x.stats()).toMatchObject({ exported: b!.spans, failures: 1 });
    expect(await metric("tcptrail_otlp_spans_exported_total")).toBe(b!.spans);
  });

  it("503: retried by the exporter with back-off, within its timeout, then counted as one failure", async () => {
    const [a] = labTraces();
    receiver.respondWith(503);
    const x = start({ timeoutMs: 2_500 });
    x.push(a!.trace);
    await waitFor(() => x.stats().failures === 1, { what: "the export to give up" });
    // At least one retry, and no more than the time allows (back-off starts near 1 s).
    expect(receiver.requests.length).toBeGreaterThanOrEqual(2);
    expect(receiver.requests.length).toBeLessThanOrEqual(4);
  });

  it("down: the queue fills to its bound and drops whole traces, counted; the stitcher is not held up; spans flow again once it is back", async () => {
    const port = Number(new URL(receiver.endpoint).port);
    await receiver.close();
    const traces = labTraces();
    // Room for the first two traces' spans: one in flight (retrying), one queued.
    const maxQueueSpans = Math.max(traces[0]!.spans, traces[1]!.spans) + 1;
    const x = start({ maxQueueSpans, maxBatchSpans: maxQueueSpans, timeoutMs: 1_500 });
    // The real stitcher hands each finished trace to the export, as the consumer's hub does.
    const emitted: Trace[] = [];
    const stitcher = new Stitcher({
      onTrace: (t) => {
        emitted.push(t);
        x.push(t);
      },
    });
    let peak = 0;
    for (const n of SCENARIOS) {
      replay(fixture(n), (node, events) => stitcher.ingest(node, events));
      stitcher.flush();
      peak = Math.max(peak, x.stats().queued);
    }
    expect(emitted.map((t) => t.traceId)).toEqual(traces.map((t) => t.trace.traceId));
    expect(peak).toBeLessThanOrEqual(maxQueueSpans);
    expect(x.stats().dropped).toBeGreaterThan(0);
    expect(await metric("tcptrail_otlp_dropped_spans_total")).toBe(x.stats().dropped);
    await waitFor(() => x.stats().inFlight === 0 && x.stats().queued === 0, { what: "the refused exports to be given up" });
    const s = x.stats();
    // Every span is accounted for: none exported, the rest failed or dropped.
    expect(s.exported).toBe(0);
    expect(s.failedSpans + s.dropped).toBe(traces.reduce((sum, t) => sum + t.spans, 0));
    expect(s.failures).toBeGreaterThan(0);

    receiver = await startOtlpReceiver(port);
    const again = traces[0]!;
    x.push(again.trace);
    await waitFor(() => receiver.spans.length === again.spans, { what: "spans after the backend came back" });
  });

  it("close() with the backend down returns within its bound and counts what it could not send", async () => {
    const [a] = labTraces();
    await receiver.close();
    const x = start({ timeoutMs: 10_000, closeMs: 300 });
    x.push(a!.trace);
    const began = Date.now();
    await x.close();
    otlp = undefined;
    expect(Date.now() - began).toBeLessThan(2_000);
    expect(x.stats().queued).toBe(0);
  });
});

describe("headers", () => {
  it("OTEL_EXPORTER_OTLP_HEADERS reaches the backend, beside the protobuf content type", async () => {
    process.env.OTEL_EXPORTER_OTLP_HEADERS = "x-tenant=team-a,authorization=Bearer%20s3cret";
    const [a] = labTraces();
    start().push(a!.trace);
    await waitFor(() => receiver.spans.length === a!.spans, { what: "the spans" });
    expect(receiver.requests[0]!.headers).toMatchObject({
      "x-tenant": "team-a",
      authorization: "Bearer s3cret",
      "content-type": "application/x-protobuf",
    });
    expect(receiver.requests[0]!.path).toBe("/v1/traces");
  });
});
