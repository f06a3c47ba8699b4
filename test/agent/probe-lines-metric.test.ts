// tcptrail_probe_lines_total: every line bpftrace printed, so a benchmark can
// say how many kernel→user lines one connection costs. Fed from a real
// recording, no bpftrace needed.
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { Agent } from "../../src/agent/mod.js";
import { createMetrics } from "../../src/metrics/mod.js";
import { LineParser } from "../../src/probes/mod.js";

const RECORDING = new URL("../probes/fixtures/loopback-basics.txt", import.meta.url);

async function counterValue(c: ReturnType<typeof createMetrics>["probeLines"]): Promise<number> {
  return (await c.get()).values[0]?.value ?? 0;
}

describe("probe lines metric", () => {
  test("counts every line fed, events and non-events alike, once across reports", async () => {
    const lines = readFileSync(RECORDING, "utf8").split("\n").filter((l) => l.length > 0);
    // A "Lost" line and a malformed line are lines too, but no events.
    lines.push("Lost 3 events", "not a probe line");
    const metrics = createMetrics({ defaultMetrics: false });
    const agent = new Agent({ node: "t", sink: () => undefined, pods: { resolve: () => "" }, metrics });
    const half = Math.floor(lines.length / 2);
    for (const l of lines.slice(0, half)) agent.feed(l);
    // The first tick reports (no report yet this second); stop() reports the rest: the two must add up, not overlap.
    agent.tick();
    expect(await counterValue(metrics.probeLines)).toBe(half);
    for (const l of lines.slice(half)) agent.feed(l);
    await agent.stop();

    expect(await counterValue(metrics.probeLines)).toBe(lines.length);
    const eventsRead = (await metrics.eventsRead.get()).values[0]?.value ?? 0;
    // Events are counted apart from lines: one probe line can stand for several events (folded states).
    let events = 0;
    const parser = new LineParser({ onEvent: () => events++ });
    for (const l of lines) parser.parse(l);
    expect(events).toBeGreaterThan(0);
    expect(eventsRead).toBe(events);
    expect(eventsRead).not.toBe(lines.length);
    expect(await metrics.registry.metrics()).toMatch(/^tcptrail_probe_lines_total \d+$/m);
  });
});
