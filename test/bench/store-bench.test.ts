// The store bench itself must work (bench/ is not otherwise exercised by CI):
// a small store of each kind of traffic, through the real SqliteTraceStore.
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_AGE_MS, DEFAULT_MAX_BYTES } from "../../src/store/mod.js";
import { DEFAULT_EVENTS_MAX_AGE_MS, DEFAULT_EVENTS_MAX_BYTES } from "../../src/store/sqlite/options.js";
import { benchStore, eventCopies, horizon } from "../../bench/store-bench.js";
import { formatStoreRun, formatStoreTable } from "../../bench/store-report.js";

describe("horizon", () => {
  it("is the default size limit over a day's bytes at the rate, next to the age limits", () => {
    const h = horizon(50, 600, 1000);
    expect(h.hours).toBeCloseTo(DEFAULT_MAX_BYTES / 50_000 / 3600, 6);
    expect(h.maxAgeHours).toBe(DEFAULT_MAX_AGE_MS / 3.6e6);
    expect(h.eventsMinutes).toBeCloseTo(DEFAULT_EVENTS_MAX_BYTES / 600_000 / 60, 6);
    // A day of traces carries one ring of events: the ring holds the shorter of its two limits.
    const ringConns = Math.min(h.eventsMinutes, DEFAULT_EVENTS_MAX_AGE_MS / 60_000) * 60 * 1000;
    const dayConns = Math.min(h.hours, h.maxAgeHours) * 3600 * 1000;
    expect(h.dayBytesPerConnection).toBeCloseTo(50 + (600 * ringConns) / dayConns, 6);
  });
});

describe("eventCopies", () => {
  it("takes the newest whole copies, never a partial last one", () => {
    expect(eventCopies(10_000, 1000, 2500)).toEqual({ first: 7, end: 10 });
    expect(eventCopies(10_500, 1000, 2500)).toEqual({ first: 7, end: 10 });
    expect(eventCopies(1500, 1000, 100_000)).toEqual({ first: 0, end: 1 });
  });
});

describe("benchStore", () => {
  for (const traffic of ["mesh", "churn"] as const) {
    it(`stores ${traffic} connections, measures their bytes, inserts and queries`, async () => {
      const connections = 2500;
      const r = await benchStore({ traffic, connections, templateConnections: 400, eventConnections: 800, queryRuns: 3 });
      // What the store says it holds is exactly what the bench put.
      expect(r.kinds.traces.count).toBe(connections);
      expect(r.eventConnections).toBe(800);
      expect(r.kinds.events.count).toBe(800 * r.stream.eventsPerConnection);
      expect(r.fileBytes).toBeGreaterThan(0);
      expect(r.traceBytesPerConnection).toBeGreaterThan(0);
      expect(r.eventBytesPerConnection).toBeGreaterThan(0);
      expect(r.stream.eventsPerConnection).toBe(traffic === "mesh" ? 46 : 13);
      expect(r.stream.bytesPerEvent).toBeGreaterThan(5);
      expect(r.traceInserts.items).toBe(connections);
      // 2,500 connections at 1,000/s all started in the last hour: every first page is full.
      expect(r.queries.list.found).toBe(3 * 100);
      expect(r.queries.listPod.found).toBeGreaterThan(0);
      // Mesh traffic has no failures, churn's half are resets.
      expect(r.queries.listOutcome.found).toBe(traffic === "mesh" ? 0 : 3 * 100);
      expect(r.queries.getTrace.found).toBe(3);
      expect(r.queries.timeline.found).toBeGreaterThan(0);
      expect(r.queries.list.p99Ms).toBeGreaterThanOrEqual(r.queries.list.p50Ms);
      expect(r.horizon.hours).toBeCloseTo(DEFAULT_MAX_BYTES / (r.traceBytesPerConnection * 1000) / 3600, 6);
      const text = [...formatStoreRun(r), ...formatStoreTable([r])].join("\n");
      expect(text).toContain(r.horizon.hours.toFixed(1));
    });
  }

  it("stores the recorded lab traffic with the same report: its failures are listed, its timelines found", async () => {
    const connections = 2500;
    const r = await benchStore({ traffic: "lab", connections, templateConnections: 400, eventConnections: 800, queryRuns: 3 });
    expect(r.kinds.traces.count).toBe(connections);
    expect(r.kinds.events.count).toBe(800 * r.stream.eventsPerConnection);
    expect(r.traceBytesPerConnection).toBeGreaterThan(0);
    expect(r.eventBytesPerConnection).toBeGreaterThan(0);
    // The recordings' failures (a tenth of the default mix) are there for the outcome filter to find.
    expect(r.queries.listOutcome.found).toBeGreaterThan(0);
    expect(r.queries.getTrace.found).toBe(3);
    expect(r.queries.timeline.found).toBeGreaterThan(0);
    const text = [...formatStoreRun(r), ...formatStoreTable([r])].join("\n");
    expect(text).toMatch(/^lab \(recorded lab scenarios replayed, 90% ok, /);
    expect(text).toContain(`${r.traceBytesPerConnection.toFixed(1)} B/connection`);
  });
});
