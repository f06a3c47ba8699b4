import { describe, expect, test } from "vitest";
import { parseMetricsText, sample } from "../../bench/prometheus-text.js";
import { createMetrics } from "../../src/metrics/mod.js";

describe("metrics text", () => {
  test("reads tcptrail's own /metrics output back as numbers", async () => {
    const m = createMetrics();
    m.eventsRead.inc(1234);
    m.probeLines.inc(5678);
    m.kernelLost.inc(9);
    m.liveSockets.set(42);
    const samples = parseMetricsText(await m.registry.metrics());
    expect(sample(samples, "tcptrail_events_read_total")).toBe(1234);
    expect(sample(samples, "tcptrail_probe_lines_total")).toBe(5678);
    expect(sample(samples, "tcptrail_kernel_lost_events_total")).toBe(9);
    expect(sample(samples, "tcptrail_queue_dropped_events_total")).toBe(0);
    expect(sample(samples, "tcptrail_live_sockets")).toBe(42);
    // The default process metrics are read too, labelled series included: comments and labels were skipped, not stopped at.
    expect(samples.get("tcptrail_process_process_cpu_user_seconds_total")).toBeGreaterThan(0);
    expect([...samples.keys()].filter((k) => k.startsWith('tcptrail_process_nodejs_heap_space_size_total_bytes{space="')).length).toBeGreaterThan(1);
  });

  test("labels (even with spaces), timestamps and missing series", () => {
    const s = parseMetricsText('# HELP x y\nx_total{a="b c",d="e"} 3 1700000000000\ny 2.5e3\nbroken\n');
    expect(s.get('x_total{a="b c",d="e"}')).toBe(3);
    expect(s.get("y")).toBe(2500);
    expect(s.size).toBe(2);
    expect(sample(s, "absent_total")).toBe(0);
  });
});
