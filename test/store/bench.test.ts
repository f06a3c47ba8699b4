// The store benchmark itself must work (bench/ is not otherwise exercised by CI).
import { expect, it } from "vitest";
import { benchStore } from "../../bench/store-bench.js";

it("measures insert rates and put-to-queryable latency", async () => {
  const r = await benchStore({ events: 5000, traces: 1000, latencySamples: 50 });
  expect(r.eventsPerSec).toBeGreaterThan(0);
  expect(r.tracesPerSec).toBeGreaterThan(0);
  expect(r.closeToQueryableUs.p50).toBeGreaterThan(0);
  expect(r.closeToQueryableUs.p99).toBeGreaterThanOrEqual(r.closeToQueryableUs.p50);
  expect(r.bytes).toBeGreaterThan(0);
});
