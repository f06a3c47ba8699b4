// The span tree beyond a straight chain: a proxy's retried connects (every
// attempt a child of the one downstream leg), a pooled upstream linked to its
// downstream with certainty (a child) or by a guess (AMBIGUOUS: a span link,
// not a parent), and the inference of parents from a stored trace's hops.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hopParents, startOtlpExport, type HopShape, type OtlpExport } from "../../src/export/otlp/mod.js";
import { Outcome, SidecarLeg, v1, type Trace } from "../../src/model/mod.js";
import { waitFor } from "../helpers/mod.js";
import { done, pooledLab, reuse, scenarioKeepaliveRace } from "../trace/helpers/pooled.js";
import { scenarioInboundRetries } from "../trace/helpers/scenarios.js";
import { stitch } from "../trace/helpers/stitch.js";
import { OTLP_KIND, startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from "./helpers/otlp-receiver.js";

const MS = 1_000_000;
const C = v1.LinkConfidence;

let receiver: OtlpReceiver;
let otlp: OtlpExport;
beforeEach(async () => {
  receiver = await startOtlpReceiver();
  otlp = startOtlpExport({ endpoint: receiver.endpoint, flushMs: 1 });
});
afterEach(async () => {
  await otlp.close();
  await receiver.close();
});

const tracedSockets = (t: Trace) => t.hops.flatMap((h) => [h.client, h.server].filter((ep) => ep?.socketId));

async function exported(t: Trace): Promise<ReceivedSpan[]> {
  otlp.push(t);
  const n = tracedSockets(t).length;
  await waitFor(() => receiver.spans.filter((s) => s.attributes["tcptrail.trace_id"] === t.traceId).length >= n, { what: `${n} spans of ${t.traceId}` });
  return receiver.spans.filter((s) => s.attributes["tcptrail.trace_id"] === t.traceId);
}

const spanOf = (spans: ReceivedSpan[], socketId: string | null | undefined): ReceivedSpan => {
  const found = spans.filter((s) => s.attributes["tcptrail.socket_id"] === socketId);
  expect(found, `one span of ${socketId}`).toHaveLength(1);
  return found[0]!;
};

describe("proxy retries", () => {
  it("every connect attempt of sidecar b is a child of the one downstream leg it was made for", async () => {
    const [t] = stitch(scenarioInboundRetries(["refused", "refused", "ok"])).traces;
    expect(t!.hops.map((h) => h.attempt)).toEqual([1, 1, 1, 2, 3]);
    const spans = await exported(t!);
    const inbound = spanOf(spans, t!.hops[1]!.server!.socketId);
    for (const h of t!.hops.slice(2)) {
      const s = spanOf(spans, h.client!.socketId);
      expect(s.parentSpanId, `attempt ${h.attempt}`).toBe(inbound.spanId);
      expect(s.attributes).toMatchObject({ "tcptrail.attempt": h.attempt, "tcptrail.attempts": 3 });
    }
    // The refused attempts are errors, the one that connected is not.
    expect(t!.hops.slice(2).map((h) => spanOf(spans, h.client!.socketId).attributes["error.type"])).toEqual(["REFUSED", "REFUSED", undefined]);
  });
});

describe("pooled upstreams", () => {
  /** Three downstreams over sidecar a's one upstream; the second's link read two sources: a guess. */
  function pooledTraces(): { certain: Trace; guessed: Trace } {
    const p = pooledLab();
    done(p, p.downs[0]!);
    p.lab.wait("lab", 1000 * MS);
    const d2 = reuse(p, 41101, { sources: 2 });
    p.lab.wait("lab", 1000 * MS);
    const d3 = reuse(p, 41201);
    const { traces } = stitch(p.lab.records);
    const byPort = (port: number) => traces.find((t) => t.hops[0]!.client!.port === port)!;
    return { guessed: byPort(d2.c.local.port), certain: byPort(d3.c.local.port) };
  }

  it("a certain link: the shared upstream is a child of the downstream it served, its span the interval of use", async () => {
    const { certain: t } = pooledTraces();
    expect(t.hops[1]!.shared).toBe(true);
    expect(t.hops[1]!.linkConfidence).toBe(C.LINK_CONFIDENCE_CERTAIN);
    const spans = await exported(t);
    const upstream = spanOf(spans, t.hops[1]!.client!.socketId);
    expect(upstream.parentSpanId).toBe(spanOf(spans, t.hops[0]!.server!.socketId).spanId);
    expect(upstream.links).toEqual([]);
    expect(upstream.attributes).toMatchObject({ "tcptrail.shared": true, "tcptrail.link_confidence": "CERTAIN" });
    // This trace used the connection from its reuse on, not since the connection began.
    expect(Number(t.hops[1]!.useStartUs)).toBeGreaterThan(Number(t.hops[1]!.startUs));
    expect(upstream.startUs).toBe(Number(t.hops[1]!.useStartUs));
    expect(upstream.endUs).toBe(Number(t.hops[1]!.useEndUs));
  });

  it("an AMBIGUOUS link: the shared upstream is a link from the downstream, not its child; behind it the chain is parented", async () => {
    const { guessed: t } = pooledTraces();
    expect(t.hops.slice(1).map((h) => h.linkConfidence)).toEqual([C.LINK_CONFIDENCE_AMBIGUOUS, C.LINK_CONFIDENCE_AMBIGUOUS]);
    const spans = await exported(t);
    const downstream = spanOf(spans, t.hops[0]!.server!.socketId);
    const upstream = spanOf(spans, t.hops[1]!.client!.socketId);
    expect(upstream.kind).toBe(OTLP_KIND.CLIENT);
    expect(upstream.parentSpanId).toBe("");
    expect(upstream.links).toEqual([
      {
        traceId: downstream.traceId,
        spanId: downstream.spanId,
        attributes: { "tcptrail.link": "proxy", "tcptrail.link_confidence": "AMBIGUOUS" },
      },
    ]);
    // Sidecar b's side of the pooled connection is certain: parented as usual.
    const peer = spanOf(spans, t.hops[1]!.server!.socketId);
    expect(peer.parentSpanId).toBe(upstream.spanId);
    expect(peer.links).toEqual([]);
    expect(spanOf(spans, t.hops[2]!.client!.socketId).parentSpanId).toBe(peer.spanId);
  });
});

describe("the keep-alive race", () => {
  it("the pooled upstream that met the RST is the error, every span ends after it starts, the race is the trace's outcome", async () => {
    const { p, d3 } = scenarioKeepaliveRace();
    const t = stitch(p.lab.records).traces.find((x) => x.hops[0]!.client!.port === d3.c.local.port)!;
    expect(t.outcome).toBe(Outcome.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE);
    const spans = await exported(t);
    for (const s of spans) expect(s.endUs).toBeGreaterThanOrEqual(s.startUs);
    expect(spans.every((s) => s.attributes["tcptrail.trace.outcome"] === "UPSTREAM_IDLE_CLOSE_RACE")).toBe(true);
    const upstream = spanOf(spans, t.hops[1]!.client!.socketId);
    expect(upstream.attributes["tcptrail.shared"]).toBe(true);
    expect(upstream.events.find((e) => e.name === "RST")?.attributes["tcptrail.direction"]).toBe("received");
    expect(upstream.status.code).toBe(2);
    // Sidecar a's upstream is still a child of the downstream it carried the request for.
    expect(upstream.parentSpanId).toBe(spanOf(spans, t.hops[0]!.server!.socketId).spanId);
  });
});

describe("hopParents", () => {
  const ep = (pid: number, leg: number, sock: string) => ({ socketId: `n/${sock}/1`, pid, node: "n", leg });
  const L = SidecarLeg;

  it("a sidecar calling its own pod: the passthrough follows the inbound listener, a retried upstream the outbound one", () => {
    // app → sidecar(15001) → upstream → same sidecar(15006) → passthrough → app; then a second upstream attempt.
    const hops: HopShape[] = [
      { client: ep(10, 0, "a1"), server: ep(20, L.SIDECAR_LEG_OUTBOUND_LISTENER, "s1") },
      { client: ep(20, L.SIDECAR_LEG_UPSTREAM, "u1"), server: ep(20, L.SIDECAR_LEG_INBOUND_LISTENER, "s2"), link: "proxy" },
      { client: ep(20, L.SIDECAR_LEG_INBOUND_PASSTHROUGH, "p1"), server: ep(10, 0, "a2"), link: "proxy" },
      { client: ep(20, L.SIDECAR_LEG_UPSTREAM, "u2"), server: null, link: "proxy" },
    ];
    expect(hopParents(hops)).toEqual([-1, 0, 1, 0]);
  });

  it("a proxy of unknown legs: the nearest earlier hop whose server is its process; else the hop before", () => {
    const hops: HopShape[] = [
      { client: ep(1, 0, "c"), server: ep(2, 0, "s") },
      { client: ep(2, 0, "c2"), server: ep(3, 0, "s2"), link: "proxy" },
      { client: ep(9, 0, "c3"), server: null, link: "proxy" },
    ];
    expect(hopParents(hops)).toEqual([-1, 0, 1]);
  });

  it("the same pid on another node is another process", () => {
    const hops: HopShape[] = [
      { client: ep(1, 0, "c"), server: { ...ep(2, 0, "s"), node: "other" } },
      { client: ep(2, 0, "c2"), server: ep(3, 0, "s2"), link: "proxy" },
      { client: ep(3, 0, "c3"), server: null, link: "proxy" },
      { client: { ...ep(2, 0, "c4"), node: "other" }, server: null, link: "proxy" },
    ];
    expect(hopParents(hops)).toEqual([-1, 0, 1, 0]);
  });
});
