// Each recorded lab scenario's real trace (test/trace/fixtures/lab: real
// kernel, HAProxy sidecars, istio-iptables; stitched by the real Stitcher)
// exported by the real OTLP exporter to a receiver that decodes the wire with
// the official opentelemetry-proto schema: one span per traced socket, the
// hops' parent/child structure, kinds, kernel times, attributes, SYN/FIN/RST
// events and error status, and ids that stay the same on re-export.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { otlpSpanId, otlpTraceId, startOtlpExport, type OtlpExport } from "../../src/export/otlp/mod.js";
import { Outcome, formatEndpoint, outcomeName, reasonName, type Trace } from "../../src/model/mod.js";
import { waitFor } from "../helpers/mod.js";
import { loadFixture } from "../trace/helpers/load-fixture.js";
import { segmentEventUs, stepUs, type Segment } from "../trace/helpers/segment-events.js";
import { stitch } from "../trace/helpers/stitch.js";
import { OTLP_KIND, OTLP_STATUS, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./helpers/otlp-receiver.js";

const fixture = (name: string) => loadFixture(new URL(`../trace/fixtures/lab/${name}.json`, import.meta.url).pathname);

/** The scenario's trace that starts at the lab client (as test/trace/lab-recorded.test.ts picks it). */
function labTrace(name: string, batch = 8): Trace {
  // reject needs ok's events before it: pod b must be traced territory for its RST to read as untraced.
  const recs = name === "reject" ? [...fixture("ok"), ...fixture("reject")] : fixture(name);
  const mine = stitch(recs, {}, batch).traces.filter((t) => t.hops[0]?.client?.comm === "tt-client");
  expect(mine).toHaveLength(name === "reject" ? 2 : 1);
  return mine[mine.length - 1]!;
}

let receiver: OtlpReceiver;
let otlp: OtlpExport | undefined;
beforeEach(async () => {
  receiver = await startOtlpReceiver();
});
afterEach(async () => {
  await otlp?.close();
  otlp = undefined;
  await receiver.close();
});

/** Export `traces` and wait until the receiver holds `count` spans. */
async function exportAll(traces: Trace[], count: number): Promise<ReceivedSpan[]> {
  otlp ??= startOtlpExport({ endpoint: receiver.endpoint, flushMs: 1 });
  const before = receiver.spans.length;
  for (const t of traces) otlp.push(t);
  await waitFor(() => receiver.spans.length >= before + count, { what: `${count} spans at the receiver` });
  return receiver.spans.slice(before);
}

const tracedSockets = (t: Trace) => t.hops.flatMap((h) => [h.client, h.server].filter((ep) => ep?.socketId));

/** The span of socket `socketId`, found by the attribute the exporter set. */
function spanOf(spans: ReceivedSpan[], socketId: string | null | undefined): ReceivedSpan {
  const found = spans.filter((s) => s.attributes["tcptrail.socket_id"] === socketId);
  expect(found, `one span of socket ${socketId}`).toHaveLength(1);
  return found[0]!;
}

const SCENARIOS = ["ok", "app-abort", "no-listener", "reject", "sidecar-crash", "idle-timeout", "plain-to-mesh"];

describe("OTLP export of the recorded lab scenarios", () => {
  it.each(SCENARIOS)("%s: a span per traced socket, parented hop by hop, with kinds, kernel times, attributes and events", async (name) => {
    const t = labTrace(name);
    const sockets = tracedSockets(t);
    const spans = await exportAll([t], sockets.length);
    expect(spans).toHaveLength(sockets.length);
    // One OTLP trace, its id derived from tcptrail's.
    expect(new Set(spans.map((s) => s.traceId))).toEqual(new Set([otlpTraceId(t.traceId)]));
    expect(spans[0]!.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(spans[0]!.resource["service.name"]).toBe("tcptrail");
    // Exactly one root: the app's connect that began the logical connection.
    const roots = spans.filter((s) => s.parentSpanId === "");
    expect(roots.map((s) => s.attributes["tcptrail.socket_id"])).toEqual([t.hops[0]!.client!.socketId]);
    expect(roots[0]!.attributes["tcptrail.explanation"]).toBe(t.explanation);

    t.hops.forEach((hop, i) => {
      const client = spanOf(spans, hop.client!.socketId);
      expect(client.kind).toBe(OTLP_KIND.CLIENT);
      expect([client.startUs, client.endUs]).toEqual([Number(hop.startUs), Number(hop.endUs)]);
      expect(client.attributes).toMatchObject({
        "network.transport": "tcp",
        "network.type": "ipv4",
        "network.peer.address": hop.server!.ip,
        "network.peer.port": hop.server!.port,
        "client.address": hop.client!.ip,
        "client.port": hop.client!.port,
        "process.pid": hop.client!.pid,
        "process.executable.name": hop.client!.comm,
        "tcptrail.pod": hop.client!.pod,
        "tcptrail.trace_id": t.traceId,
        "tcptrail.trace.outcome": outcomeName(t.outcome),
        "tcptrail.hop": hop.index,
        "tcptrail.outcome": outcomeName(hop.outcome),
      });
      // Seen from the client, server.* is where it meant to go before REDIRECT.
      const dst = hop.originalDestination?.ip ? hop.originalDestination : hop.server!;
      expect(formatEndpoint({ ip: client.attributes["server.address"] as string, port: client.attributes["server.port"] as number })).toBe(formatEndpoint(dst));
      // The lab names pods by their network namespace: not Kubernetes pods, so no k8s.* attributes.
      expect(client.attributes["k8s.pod.name"]).toBeUndefined();
      // Every hop but the first was dialed by a proxy for the hop before it: a child
      // of that proxy's accepted (SERVER) socket, in the same process.
      if (i === 0) expect(client.parentSpanId).toBe("");
      else {
        const cause = spanOf(spans, t.hops[i - 1]!.server!.socketId);
        expect(client.parentSpanId).toBe(cause.spanId);
        expect(cause.kind).toBe(OTLP_KIND.SERVER);
        expect(cause.attributes["process.pid"]).toBe(client.attributes["process.pid"]);
      }
      const syn = client.events.find((e) => e.name === "SYN");
      expect(syn?.attributes).toEqual({ "tcptrail.sender": "client", "tcptrail.direction": "sent" });
      expect(syn?.timeUs).toBe(Number(hop.startUs));
      if (hop.server?.socketId) {
        const server = spanOf(spans, hop.server.socketId);
        expect(server.kind).toBe(OTLP_KIND.SERVER);
        expect(server.parentSpanId).toBe(client.spanId);
        expect(server.attributes["network.peer.address"]).toBe(hop.client!.ip);
        expect(server.attributes["server.port"]).toBe(hop.server.port);
        expect(server.events.find((e) => e.name === "SYN")?.attributes["tcptrail.direction"]).toBe("received");
      }
      // FIN and RST as the hop names their sender, on every span of the hop.
      for (const s of [client, ...(hop.server?.socketId ? [spanOf(spans, hop.server.socketId)] : [])]) {
        const side = s === client ? "client" : "server";
        const fin = s.events.find((e) => e.name === "FIN");
        const rst = s.events.find((e) => e.name === "RST");
        expect(fin?.attributes["tcptrail.sender"]).toBe(hop.firstFinBy || undefined);
        expect(rst?.attributes["tcptrail.sender"]).toBe(hop.resetBy || undefined);
        if (fin) expect(fin.attributes["tcptrail.direction"]).toBe(hop.firstFinBy === side ? "sent" : "received");
        if (rst) expect(rst.attributes["tcptrail.direction"]).toBe(hop.resetBy === side ? "sent" : "received");
        if (rst && hop.resetReason) expect(rst.attributes["tcptrail.reset_reason"]).toBe(reasonName(hop.resetReason));
      }
    });
  });

  it("ok, idle-timeout, plain-to-mesh: completed, nothing in error, the first FIN's sender named", async () => {
    for (const name of ["ok", "idle-timeout", "plain-to-mesh"]) {
      const t = labTrace(name);
      const spans = await exportAll([t], tracedSockets(t).length);
      expect(spans.map((s) => s.status.code)).toEqual(spans.map(() => OTLP_STATUS.UNSET));
      expect(spans.some((s) => "error.type" in s.attributes)).toBe(false);
      // The hop where the connection was first closed: its closer's span says it sent the FIN.
      const hop = t.hops[t.firstCloseHop - 1]!;
      const closer = hop[t.firstCloseBy as "client" | "server"]!;
      const fin = spanOf(spans, closer.socketId).events.find((e) => e.name === "FIN")!;
      expect(fin.attributes["tcptrail.direction"]).toBe("sent");
      expect(fin.timeUs).toBe(Number(hop.firstFinUs));
    }
  });

  it.each(SCENARIOS)("%s: each SYN, FIN and RST event is at the kernel's time of that segment, not at its span's ends", async (name) => {
    const t = labTrace(name);
    const recs = name === "reject" ? [...fixture("ok"), ...fixture("reject")] : fixture(name);
    const spans = await exportAll([t], tracedSockets(t).length);
    let checked = 0;
    for (const hop of t.hops) {
      for (const ep of [hop.client, hop.server]) {
        if (!ep?.socketId) continue;
        for (const e of spanOf(spans, ep.socketId).events) {
          const signal = e.name as Segment;
          // The hop's step time, to the µs, on every span of the hop.
          expect(e.timeUs, `hop ${hop.index} ${signal}`).toBe(stepUs(hop, signal));
          // And that is the recorded kernel event's own time: the stitcher
          // rounds kernel ns through the node's clock, the recording's wall
          // times are whole µs, so the two agree within 1 µs.
          const recorded = segmentEventUs(recs, hop, signal);
          expect(recorded, `hop ${hop.index} ${signal}: a recorded event`).toBeGreaterThan(0);
          expect(Math.abs(e.timeUs - recorded), `hop ${hop.index} ${signal}`).toBeLessThanOrEqual(1);
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThan(t.hops.length);
  });

  it("pooled (recorded): a shared hop's events fall inside this trace's use of it; a reused connection's SYN is left to the trace that dialed it", async () => {
    const recs = loadFixture(new URL("../trace/fixtures/lab-pooled/pooled.json", import.meta.url).pathname);
    const traces = stitch(recs).traces.sort((a, b) => Number(a.startUs) - Number(b.startUs));
    expect(traces.map((t) => t.hops.map((h) => h.shared))).toEqual(traces.map(() => [false, true, true]));
    const spans = await exportAll(traces, traces.reduce((n, t) => n + tracedSockets(t).length, 0));
    traces.forEach((t, k) => {
      for (const hop of t.hops) {
        for (const ep of [hop.client!, hop.server!]) {
          const s = spans.find((x) => x.attributes["tcptrail.trace_id"] === t.traceId && x.attributes["tcptrail.socket_id"] === ep.socketId)!;
          for (const e of s.events) {
            expect(e.timeUs).toBe(stepUs(hop, e.name as Segment));
            expect(e.timeUs).toBeGreaterThanOrEqual(s.startUs);
            expect(e.timeUs).toBeLessThanOrEqual(s.endUs);
          }
          // The first trace's request dialed the upstream (its SYN is in its use); the later ones reused it.
          const syn = s.events.find((e) => e.name === "SYN");
          if (hop.shared && k > 0) {
            expect(Number(hop.openedUs)).toBeLessThan(s.startUs);
            expect(syn).toBeUndefined();
          } else expect(syn?.timeUs).toBe(Number(hop.openedUs));
        }
      }
    });
  });

  it("app-abort: app b's RST is an error on both ends of hop 3, with its kernel reason, and app b's span is the origin", async () => {
    const t = labTrace("app-abort");
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_BY_SERVER);
    const spans = await exportAll([t], tracedSockets(t).length);
    const hop3 = t.hops[2]!;
    const app = spanOf(spans, hop3.server!.socketId);
    const sidecar = spanOf(spans, hop3.client!.socketId);
    for (const s of [app, sidecar]) {
      expect(s.status.code).toBe(OTLP_STATUS.ERROR);
      expect(s.status.message).toContain(`kernel reason ${reasonName(hop3.resetReason)}`);
      expect(s.attributes["error.type"]).toBe("RESET_BY_SERVER");
      expect(s.attributes["tcptrail.reset_reason"]).toBe(reasonName(hop3.resetReason));
    }
    expect(app.events.find((e) => e.name === "RST")!.attributes["tcptrail.direction"]).toBe("sent");
    expect(sidecar.events.find((e) => e.name === "RST")!.attributes["tcptrail.direction"]).toBe("received");
    expect(app.attributes["tcptrail.reset_origin"]).toBe(true);
    expect(app.attributes["tcptrail.explanation"]).toBe(t.explanation);
    // The sidecars relayed it as FINs: hops 1 and 2 completed, not in error.
    for (const h of t.hops.slice(0, 2)) expect(spanOf(spans, h.client!.socketId).status.code).toBe(OTLP_STATUS.UNSET);
  });

  it("no-listener: the refused hop has no server socket, so one CLIENT span that got a NO_SOCKET RST", async () => {
    const t = labTrace("no-listener");
    const spans = await exportAll([t], tracedSockets(t).length);
    expect(spans).toHaveLength(5);
    const refused = spanOf(spans, t.hops[2]!.client!.socketId);
    expect(refused.status.code).toBe(OTLP_STATUS.ERROR);
    expect(refused.attributes["error.type"]).toBe("REFUSED");
    expect(refused.events.find((e) => e.name === "RST")!.attributes).toEqual({
      "tcptrail.sender": "server",
      "tcptrail.direction": "received",
      "tcptrail.reset_reason": "NO_SOCKET",
    });
    expect(spans.filter((s) => s.parentSpanId === refused.spanId)).toEqual([]);
  });

  it("reject: a RST no traced socket sent, received by sidecar a's upstream", async () => {
    const t = labTrace("reject");
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_UNTRACED);
    const spans = await exportAll([t], tracedSockets(t).length);
    const upstream = spanOf(spans, t.resetReceiver!.socketId);
    expect(upstream.kind).toBe(OTLP_KIND.CLIENT);
    expect(upstream.attributes).toMatchObject({ "error.type": "RESET_UNTRACED", "tcptrail.reset_receiver": true, "tcptrail.explanation": t.explanation });
    expect(upstream.events.find((e) => e.name === "RST")!.attributes).toMatchObject({ "tcptrail.sender": "none", "tcptrail.direction": "received" });
    expect(spans.filter((s) => s.attributes["tcptrail.reset_origin"])).toEqual([]);
  });

  it("sidecar-crash: the hops sidecar b's exit closed are errors of kind PROCESS_EXIT", async () => {
    const t = labTrace("sidecar-crash");
    const spans = await exportAll([t], tracedSockets(t).length);
    const errors = t.hops.filter((h) => h.outcome === Outcome.OUTCOME_PROCESS_EXIT);
    expect(errors.length).toBeGreaterThan(0);
    for (const h of t.hops) {
      const s = spanOf(spans, h.client!.socketId);
      expect(s.attributes["error.type"]).toBe(h.outcome === Outcome.OUTCOME_PROCESS_EXIT ? "PROCESS_EXIT" : undefined);
    }
  });
});

describe("ids are stable across re-exports", () => {
  it("the same trace, re-stitched with other batches and exported twice, gets the same trace and span ids", async () => {
    const first = labTrace("ok", 1);
    const again = labTrace("ok", 500);
    const n = tracedSockets(first).length;
    const a = await exportAll([first], n);
    await otlp!.close();
    otlp = undefined; // a new exporter, as after a restart
    const b = await exportAll([again], n);
    const ids = (spans: ReceivedSpan[]) => spans.map((s) => `${s.traceId}/${s.spanId}/${s.parentSpanId}`).sort();
    expect(ids(b)).toEqual(ids(a));
    expect(a.map((s) => s.spanId).sort()).toEqual(tracedSockets(first).map((ep) => otlpSpanId(first.traceId, ep!.socketId!)).sort());
    // Another trace gets other ids.
    const other = await exportAll([labTrace("app-abort")], n);
    expect(new Set(other.map((s) => s.traceId)).has(a[0]!.traceId)).toBe(false);
    expect(other.filter((s) => a.some((x) => x.spanId === s.spanId))).toEqual([]);
  });
});
