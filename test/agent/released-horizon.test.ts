// The pipeline's released horizon, what an agent's heartbeat claims: only a
// time up to which every event read was released, never while bpftrace is
// away (restarting) or a GAP waits in the reorder buffer.
import { describe, expect, test } from "vitest";
import { EventPipeline } from "../../src/agent/mod.js";
import { EventKind, monotonicNs, type ConnEventInit } from "../../src/model/mod.js";

const WINDOW_MS = 50;

function pipeline(): { p: EventPipeline; released: ConnEventInit[] } {
  const released: ConnEventInit[] = [];
  const p = new EventPipeline({ settings: { node: "n", tickMs: 1, reorderWindowMs: WINDOW_MS }, sink: (evs) => released.push(...evs), pods: { resolve: () => "" } });
  return { p, released };
}

describe("EventPipeline.horizon", () => {
  test("none before bpftrace's BEGIN; then the release watermark (now - window) with the last seq released", async () => {
    const { p, released } = pipeline();
    p.tick();
    expect(p.horizon()).toBeUndefined();
    const begin = monotonicNs();
    p.feedLine(`B ${begin}`);
    p.feedLine(`K ${begin + 1_000_000n} ffff1 1`);
    p.tick();
    // Read 1 ms after BEGIN, released once the clock is a window past it.
    const until = performance.now() + WINDOW_MS + 5;
    while (performance.now() < until); // deliberate busy wait: the kernel clock must pass the window
    const before = monotonicNs();
    p.tick();
    const h = p.horizon()!;
    expect(released.map((e) => e.seq)).toEqual([1]);
    expect(h.seq).toBe(1);
    expect(h.tsNs).toBeGreaterThanOrEqual(begin + 1_000_000n);
    expect(h.tsNs).toBeLessThanOrEqual(before - BigInt(WINDOW_MS) * 1_000_000n + 5_000_000n);
    // Its wall time is the events' conversion: about now - window.
    expect(Math.abs(h.timeUs / 1000 - (Date.now() - WINDOW_MS))).toBeLessThan(20);
    await p.stop();
  });

  test("stands while bpftrace restarts, and moves again only once the crash GAP is released", async () => {
    const { p, released } = pipeline();
    p.feedLine(`B ${monotonicNs()}`);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 5));
    p.tick();
    const first = p.horizon()!;
    expect(first).toBeDefined();
    p.noteCrash("bpftrace restarted (exit 9)");
    await new Promise((r) => setTimeout(r, WINDOW_MS + 5));
    p.tick();
    expect(p.horizon()).toBeUndefined();
    const restart = monotonicNs();
    p.feedLine(`B ${restart}`);
    p.tick();
    // The GAP (ending at the new BEGIN) is still in the reorder buffer: events since the crash are lost, unsaid.
    expect(p.horizon()).toBeUndefined();
    await new Promise((r) => setTimeout(r, WINDOW_MS + 5));
    p.tick();
    const after = p.horizon()!;
    const gap = released.find((e) => e.kind === EventKind.EVENT_KIND_GAP)!;
    expect(gap).toBeDefined();
    expect(after.tsNs).toBeGreaterThanOrEqual(restart);
    expect(after.seq).toBeGreaterThanOrEqual(gap.seq!);
    await p.stop();
  });

  test("stands while a perf-buffer loss GAP waits in the reorder buffer", async () => {
    const { p } = pipeline();
    const begin = monotonicNs();
    p.feedLine(`B ${begin}`);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 5));
    p.tick();
    expect(p.horizon()).toBeDefined();
    p.feedLine(`K ${monotonicNs()} ffff1 1`);
    p.feedLine("Lost 12 events");
    p.tick();
    expect(p.horizon()).toBeUndefined();
    await new Promise((r) => setTimeout(r, WINDOW_MS + 5));
    p.tick();
    expect(p.horizon()?.seq).toBe(2);
    await p.stop();
  });
});
