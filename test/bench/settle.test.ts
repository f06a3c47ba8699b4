import { afterEach, describe, expect, test } from "vitest";
import { scrapeMetrics } from "../../bench/prometheus-text.js";
import { settle } from "../../bench/settle.js";
import { createMetrics, startMetricsServer, type MetricsServer } from "../../src/metrics/mod.js";

const SERIES = "tcptrail_events_read_total";
let server: MetricsServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("settle", () => {
  test("waits, over HTTP, until a counter stops growing and returns its final value", async () => {
    const m = createMetrics({ defaultMetrics: false });
    server = await startMetricsServer(m.registry, { port: 0 });
    const url = server.url;
    // Grows by 1000 every 50 ms for 600 ms, then stops: a drain after a churn.
    let grown = 0;
    const timer = setInterval(() => {
      m.eventsRead.inc(1000);
      if (++grown === 12) clearInterval(timer);
    }, 50);
    const r = await settle(() => scrapeMetrics(url), { series: [SERIES], quietMs: 300, intervalMs: 20, tolerance: 10 });
    clearInterval(timer);
    expect(r.settled).toBe(true);
    expect(grown).toBe(12);
    expect(r.samples.get(SERIES)).toBe(12_000);
    // It saw the growth end at about 550 ms, and waited a quiet window after it.
    expect(r.grewUntilMs).toBeGreaterThan(400);
    expect(r.waitedMs - r.grewUntilMs).toBeGreaterThanOrEqual(300);
  });

  test("growth within the tolerance is quiet; growth past the timeout is reported unsettled", async () => {
    let n = 0;
    const scrape = async () => new Map([[SERIES, (n += 5)]]);
    const quiet = await settle(scrape, { series: [SERIES], quietMs: 100, intervalMs: 10, tolerance: 1000 });
    expect(quiet.settled).toBe(true);
    expect(quiet.grewUntilMs).toBe(0);
    const busy = await settle(scrape, { series: [SERIES], quietMs: 100, intervalMs: 10, tolerance: 1, timeoutMs: 300 });
    expect(busy.settled).toBe(false);
    expect(busy.waitedMs).toBeGreaterThanOrEqual(300);
  });

  test("a scrape that fails fails the settle", async () => {
    await expect(settle(() => Promise.reject(new Error("connection refused")), { series: [SERIES] })).rejects.toThrow(/connection refused/);
  });

  test("a stalled tracer's one slow, stale answer is not taken for quiet", async () => {
    // Grows to 100, then stalls: the next scrape takes longer than the whole
    // quiet window and still says 100 (its counters are updated after the
    // stall); only then does it catch up to 200, and stay there.
    const script: Array<[delayMs: number, value: number]> = [[0, 0], [0, 100], [300, 100], [0, 200]];
    let i = 0;
    const scrape = async () => {
      const [delayMs, value] = script[Math.min(i++, script.length - 1)]!;
      if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
      return new Map([[SERIES, value]]);
    };
    const r = await settle(scrape, { series: [SERIES], quietMs: 200, intervalMs: 10, tolerance: 0 });
    expect(r.settled).toBe(true);
    expect(r.samples.get(SERIES)).toBe(200);
  });
});
