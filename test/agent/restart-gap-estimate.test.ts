// A bpftrace restart's GAP (issue 12 part 2): its span runs from the last
// event read before the death to the new bpftrace's BEGIN; nobody counted what
// the dead bpftrace never printed, so `lost` stays 0 (exact counts only) and
// `estimatedLost` says how much the rate before the gap makes likely.
import { describe, expect, it } from "vitest";
import { EventPipeline } from "../../src/agent/event-pipeline.js";
import { EventKind, type ConnEventInit } from "../../src/model/mod.js";
import { silentLogger } from "../../src/log/logger.js";

const S = 1_000_000_000n;

function pipeline(out: ConnEventInit[]): EventPipeline {
  return new EventPipeline({ settings: { node: "n", reorderWindowMs: 1 }, pods: { resolve: () => "" }, logger: silentLogger, sink: (evs) => out.push(...evs) });
}

describe("the GAP of a bpftrace restart", () => {
  it("spans from the last event read to the new BEGIN and estimates the rate before × the span", async () => {
    const out: ConnEventInit[] = [];
    const p = pipeline(out);
    p.feedLine(`B ${100n * S}`);
    // 400 state changes/s for 2 s of kernel time.
    const last = 100n * S + ((800n - 1n) * S) / 400n;
    for (let i = 0n; i < 800n; i++) p.feedLine(`S ${100n * S + (i * S) / 400n} ffff${(i % 50n).toString(16)} 1 4`);
    p.noteCrash("bpftrace restarted (exit SIGKILL)");
    p.feedLine(`B ${103n * S}`);
    await p.stop();
    const gap = out.find((e) => e.kind === EventKind.EVENT_KIND_GAP);
    expect(gap).toMatchObject({ tsNs: 103n * S, gapStartNs: last, lost: 0, gapReason: "bpftrace restarted (exit SIGKILL)" });
    const spanS = Number(103n * S - last) / 1e9;
    expect(gap?.estimatedLost).toBeGreaterThan(400 * spanS * 0.9);
    expect(gap?.estimatedLost).toBeLessThan(400 * spanS * 1.1);
  });

  it("gives no estimate when bpftrace died before printing anything", async () => {
    const out: ConnEventInit[] = [];
    const p = pipeline(out);
    p.feedLine(`B ${100n * S}`);
    p.noteCrash("bpftrace restarted (exit 1)");
    p.feedLine(`B ${101n * S}`);
    await p.stop();
    const gap = out.find((e) => e.kind === EventKind.EVENT_KIND_GAP);
    expect(gap?.lost).toBe(0);
    expect(gap?.estimatedLost ?? null).toBeNull();
  });
});
