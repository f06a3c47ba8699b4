// The block codec gives back exactly the traces it was given (equal as
// toObject with defaults and 64-bit values as strings): stitched scenario
// traces, and seeded random ones with every odd value a producer may send.
import { describe, expect, it } from "vitest";
import { v1, type Trace } from "../../../src/model/mod.js";
import { traceToJson } from "../../../src/query/mod.js";
import { compareByStart, decodeBlock, encodeBlock, findInBlock, openBlock, sealBlock } from "../../../src/store/blocks/mod.js";
import { MeshLab } from "../../trace/helpers/mesh-lab.js";
import { SCENARIOS, abort, appB, meshChain, podA, podB, scenarioInboundRetries, scenarioRejectRetries } from "../../trace/helpers/scenarios.js";
import { scenarioKeepaliveRace, scenarioPooled } from "../../trace/helpers/pooled.js";
import { stitch } from "../../trace/helpers/stitch.js";
import { asObject, prng, randomTrace } from "./random-traces.js";

/** Seal, open, and compare in block order (sealBlock sorts by start, then id, stably). */
function expectRoundTrip(traces: Trace[]): void {
  const sorted = [...traces].sort(compareByStart);
  const opened = openBlock(sealBlock(traces).body);
  expect(opened).toHaveLength(sorted.length);
  for (let i = 0; i < sorted.length; i++) expect(asObject(opened[i]!), `trace ${i}`).toEqual(asObject(sorted[i]!));
}

/** A mesh chain that lived across an agent gap: its trace carries the gap's overlap. */
function gapOverlapped(): Trace[] {
  const lab = new MeshLab();
  const { s1, s2, s3, s4, s5, s6 } = meshChain(lab, podA(), podB());
  const start = lab.now("lab");
  lab.wait("lab", 3_000_000);
  lab.gap("lab", start, 17);
  abort(lab, s6, s5, "TCP_ABORT_ON_CLOSE", appB);
  abort(lab, s4, s3, "TCP_STATE", null);
  abort(lab, s2, s1, "TCP_STATE", null);
  return stitch(lab.records).traces;
}

const stitched = (): Trace[] => {
  const all: Trace[] = [];
  for (const make of Object.values(SCENARIOS)) all.push(...stitch(make()).traces);
  all.push(...stitch(scenarioInboundRetries(["refused", "refused", "ok"])).traces);
  all.push(...stitch(scenarioRejectRetries(3)).traces);
  all.push(...stitch(scenarioPooled().lab.records).traces);
  all.push(...stitch(scenarioKeepaliveRace().p.lab.records).traces);
  all.push(...stitch(scenarioKeepaliveRace(2000, -40).p.lab.records).traces);
  all.push(...gapOverlapped());
  // As the hot table holds them.
  return all.map((t) => v1.Trace.decode(v1.Trace.encode(t).finish()));
};

describe("trace blocks", () => {
  it("give back every stitched scenario trace exactly: mesh, resets with reasons, untraced senders, missing endpoints, attempts, shared hops, races", () => {
    const traces = stitched();
    expect(traces.length).toBeGreaterThanOrEqual(14);
    expect(traces.some((t) => t.hops.some((h) => (h.attempts ?? 0) > 1))).toBe(true);
    expect(traces.some((t) => t.hops.some((h) => h.shared && h.useStartUs && h.useEndUs && h.linkConfidence))).toBe(true);
    expect(traces.some((t) => t.race && t.race.idleUs && (t.race.gapUs ?? 0) > 0 && t.race.resetReason && t.race.firstCloseBy)).toBe(true);
    expect(traces.some((t) => t.race && (t.race.gapUs ?? 0) < 0)).toBe(true);
    expect(traces.some((t) => t.hops.some((h) => !h.server?.socketId))).toBe(true);
    expect(traces.some((t) => t.gapOverlap && t.gapOverlap.lost === 17 && t.gapOverlap.startUs && t.gapOverlap.endUs)).toBe(true);
    // Step times: every kind, and a reused pooled connection's SYN from before its trace began (a negative delta).
    expect(traces.some((t) => t.hops.some((h) => h.openedUs && h.firstFinUs && h.resetUs))).toBe(true);
    expect(traces.some((t) => t.hops.some((h) => h.openedUs && h.openedUs < t.startUs))).toBe(true);
    expectRoundTrip(traces);
  });

  it("read blocks sealed before step times were recorded: the hops say 0 (not recorded), the JSON null", () => {
    const traces = stitched().filter((t) => t.hops.some((h) => h.resetUs));
    // What the encoder wrote before BlockHop had fields 19-21: the same block without them.
    const block = v1.TraceBlock.decode(encodeBlock(traces));
    for (const bt of block.traces) for (const h of bt.hops ?? []) for (const k of ["openedUs", "firstFinUs", "resetUs"] as const) delete (h as Partial<typeof h>)[k];
    const old = v1.TraceBlock.encode(block).finish();
    expect(old.length).toBeLessThan(encodeBlock(traces).length);
    const back = decodeBlock(old);
    expect(back).toHaveLength(traces.length);
    back.forEach((t, i) => {
      const want = v1.Trace.decode(v1.Trace.encode(traces[i]!).finish());
      for (const h of want.hops) [h.openedUs, h.firstFinUs, h.resetUs] = [0, 0, 0];
      expect(asObject(t)).toEqual(asObject(want));
      for (const h of traceToJson(t).hops) expect([h.opened_us, h.first_fin_us, h.reset_us]).toEqual([null, null, null]);
    });
  });

  it("give back a gap overlap exactly, whatever its times and counts (unknown times, before the trace, past 2^32)", () => {
    const [base] = gapOverlapped();
    const startUs = Number(base!.startUs);
    const variants = [
      { gaps: 1, startUs: 0, endUs: 0, lost: 0, estimatedLost: 0 },
      { gaps: 2, startUs: startUs - 5_000_000, endUs: startUs + 1, lost: 2 ** 33, estimatedLost: 12 },
      { gaps: 1, startUs, endUs: startUs, lost: 0, estimatedLost: 2 ** 40 },
    ];
    const traces = variants.map((g, i) => {
      const t = v1.Trace.fromObject({ ...v1.Trace.toObject(base!), traceId: `gap-${i}`, gapOverlap: g });
      return v1.Trace.decode(v1.Trace.encode(t).finish());
    });
    expectRoundTrip(traces);
  });

  it("give back seeded random traces exactly, 20 blocks of 300", () => {
    for (let seed = 1; seed <= 20; seed++) {
      const r = prng(seed);
      expectRoundTrip(Array.from({ length: 300 }, (_, n) => randomTrace(r, n)));
    }
  });

  it("give back pod labels exactly, for the price of a few varints per pod (dictionary-encoded in the shared profiles)", () => {
    const plain = stitched();
    const labelled = plain.map((t) => {
      const c = v1.Trace.decode(v1.Trace.encode(t).finish());
      for (const h of c.hops) {
        for (const e of [h.client, h.server]) {
          if (e && e.pod) e.labels = { app: e.pod, "app.kubernetes.io/version": "1.2.3", "pod-template-hash": "6d4cf56db6" };
        }
      }
      return c;
    });
    expect(labelled.some((t) => t.hops.some((h) => Object.keys(h.client?.labels ?? {}).length === 3))).toBe(true);
    expectRoundTrip(labelled);
    // Many traces of the same pods: labels are strings once and indexes in each profile, not per endpoint.
    const many = (ts: Trace[]) => Array.from({ length: 40 }, (_, k) => ts.map((t) => Object.assign(v1.Trace.decode(v1.Trace.encode(t).finish()), { traceId: `${t.traceId}-${k}`, startUs: t.startUs + k }))).flat();
    const plainBytes = sealBlock(many(plain)).body.length;
    const labelledBytes = sealBlock(many(labelled)).body.length;
    expect(labelledBytes - plainBytes).toBeLessThan(plainBytes * 0.05 + 400);
  });

  it("read back as the plain protobuf reads back: only non-default fields are own properties", () => {
    const t = stitched()[0]!;
    const [back] = decodeBlock(encodeBlock([t]));
    expect(back).toEqual(t);
    expect(Buffer.from(v1.Trace.encode(back!).finish())).toEqual(Buffer.from(v1.Trace.encode(t).finish()));
  });

  it("keep an odd socket id verbatim and continue the deltas after it", () => {
    const base = stitched()[0]!;
    const odd = ["lab/FFFF888100004000/5000010000", "lab/ffff888100004000/05000010000", "lab/0x10/1", "no-slashes"];
    const traces = odd.map((id, i) => {
      const t = v1.Trace.decode(v1.Trace.encode(base).finish());
      t.traceId = `odd-${i}`;
      t.startUs += i;
      t.hops[0]!.client!.socketId = id;
      return t;
    });
    // A socket 2^40 addresses and 200 days of births away: deltas would not be exact, so it is kept whole.
    const far = v1.Trace.decode(v1.Trace.encode(base).finish());
    far.traceId = "far";
    far.hops[1]!.server!.socketId = "lab/1000000000/17280000000000000000";
    traces.push(far);
    expectRoundTrip(traces);
  });

  it("store a derived trace id as nothing and any other id as itself", () => {
    const t = stitched()[0]!;
    const other = v1.Trace.decode(v1.Trace.encode(t).finish());
    other.traceId = "not-derived";
    const derived = encodeBlock([t]).length;
    expect(encodeBlock([other]).length).toBe(derived + 2 + other.traceId.length);
    expect(decodeBlock(encodeBlock([other]))[0]!.traceId).toBe("not-derived");
  });

  it("find one trace by id without decoding the others, at its block position", () => {
    for (let seed = 21; seed <= 24; seed++) {
      const r = prng(seed);
      const byId = new Map<string, Trace>();
      for (let n = 0; byId.size < 200; n++) {
        const t = randomTrace(r, n);
        if (t.traceId && !byId.has(t.traceId)) byId.set(t.traceId, t);
      }
      const sorted = [...byId.values()].sort(compareByStart);
      const bytes = encodeBlock(sorted);
      sorted.forEach((t, i) => {
        const found = findInBlock(bytes, t.traceId);
        expect(found?.index).toBe(i);
        expect(asObject(found!.trace)).toEqual(asObject(t));
      });
      expect(findInBlock(bytes, "absent")).toBeNull();
    }
  });
});
