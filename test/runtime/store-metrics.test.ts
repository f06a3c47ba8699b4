// The store on /metrics: per kind (traces, raw events) how many, how many
// bytes, and how far back it reaches, set by the retention schedule at start
// and after every run, and served on the main job's /metrics from the
// consumer worker's registry.
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { silentLogger, type Logger } from "../../src/log/logger.js";
import { startMainJob, type MainJob } from "../../src/runtime/mod.js";
import {
  SqliteTraceStore,
  StoreMetrics,
  scheduleRetention,
  type RetentionPolicy,
  type RetentionResult,
  type StoreStats,
  type TraceStore,
} from "../../src/store/mod.js";
import { makeTempDir, waitFor, type TempDir } from "../helpers/mod.js";
import { A, B, meshTrace, sockOf, stateEvent } from "../store/fixtures.js";
import { TcpState } from "../../src/model/mod.js";

let tmp: TempDir;
beforeEach(async () => {
  tmp = await makeTempDir("store-metrics");
});
afterEach(async () => {
  await tmp.remove();
});

const EMPTY: StoreStats = {
  traces: 0,
  events: 0,
  bytes: 0,
  fileBytes: 0,
  kinds: { traces: { count: 0, bytes: 0, oldestUs: null }, events: { count: 0, bytes: 0, oldestUs: null } },
};

/**
 * A store that only counts retention runs and answers stats() with the run
 * count, so a report says which run it followed. Only the schedule's timing
 * is tested with it; the gauges are tested against the real store below.
 */
function countingStore(o: { failStats?: number } = {}) {
  const policies: RetentionPolicy[] = [];
  let statsCalls = 0;
  const store = {
    async retention(policy: RetentionPolicy = {}): Promise<RetentionResult> {
      policies.push(policy);
      return { deletedTraces: 0, deletedEvents: 0, bytes: 0 };
    },
    async stats(): Promise<StoreStats> {
      statsCalls++;
      if (statsCalls === o.failStats) throw new Error("stats broke");
      return { ...EMPTY, traces: policies.length };
    },
  } as unknown as TraceStore;
  return { store, policies };
}

describe("scheduleRetention", () => {
  it("passes every limit of both kinds to the store (the raw-event ring's too)", async () => {
    const { store, policies } = countingStore();
    const policy = { maxAgeMs: 1000, maxBytes: 2000, eventsMaxAgeMs: 3000, eventsMaxBytes: 4000 };
    const schedule = scheduleRetention(store, { ...policy, intervalMs: 60_000 });
    await waitFor(() => policies.length === 1, { what: "the first retention run" });
    await schedule.stop();
    expect(policies[0]).toEqual(policy);
  });

  it("reports stats at start, before the first run, and after every run", async () => {
    const { store, policies } = countingStore();
    const reports: number[] = [];
    const schedule = scheduleRetention(store, { intervalMs: 20, onStats: (s) => reports.push(s.traces) });
    await waitFor(() => reports.length >= 4, { what: "four stats reports" });
    await schedule.stop();
    // Each report names the runs done before it: 0 at start, then one more per run.
    expect(reports.slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(policies.length).toBeGreaterThanOrEqual(3);
  });

  it("keeps running when reading stats fails, and says so", async () => {
    const { store, policies } = countingStore({ failStats: 2 });
    const warnings: string[] = [];
    const log = { ...silentLogger, warn: (_o: unknown, msg: string) => void warnings.push(msg) } as unknown as Logger;
    const reports: number[] = [];
    const schedule = scheduleRetention(store, { intervalMs: 20, log, onStats: (s) => reports.push(s.traces) });
    await waitFor(() => reports.length >= 3, { what: "reports after the failed one" });
    await schedule.stop();
    expect(warnings).toContain("reading the store's stats failed");
    expect(reports[0]).toBe(0);
    expect(policies.length).toBeGreaterThanOrEqual(3);
  });
});

/** Every sample of a family in exposition text, as "labels value" (labels "" when none). */
async function samples(registry: Registry, name: string): Promise<Map<string, number>> {
  const text = await registry.metrics();
  const out = new Map<string, number>();
  for (const m of text.matchAll(new RegExp(`^${name}(\\{[^}]*\\})? (\\S+)$`, "gm"))) out.set(m[1] ?? "", Number(m[2]));
  return out;
}

describe("StoreMetrics on a real store", () => {
  it("shows each kind's count, bytes and horizon, and the file's size; an empty kind has no horizon", async () => {
    const store = new SqliteTraceStore({ path: join(tmp.path, "tcptrail.db") });
    try {
      const registry = new Registry();
      const metrics = new StoreMetrics({ registry });
      metrics.report(await store.stats());
      expect(await samples(registry, "tcptrail_store_items")).toEqual(new Map([['{kind="traces"}', 0], ['{kind="events"}', 0]]));
      expect((await samples(registry, "tcptrail_store_oldest_seconds")).size).toBe(0);

      const oldUs = Date.now() * 1000 - 3_600_000_000;
      const newUs = Date.now() * 1000 - 60_000_000;
      await store.putTraces([meshTrace({ id: "t-old", startUs: oldUs, k: 1 }), meshTrace({ id: "t-new", startUs: newUs, k: 2 })]);
      const at = (us: number) => us * 1000;
      await store.putEvents({ node: "n1", bootId: "b", agentStartUs: 1 }, [
        stateEvent({ sock: sockOf(1, 1), tNs: at(oldUs), local: [A, 40000], remote: [B, 8080], from: TcpState.TCP_STATE_CLOSE, to: TcpState.TCP_STATE_SYN_SENT }),
        stateEvent({ sock: sockOf(1, 1), tNs: at(newUs), local: [A, 40000], remote: [B, 8080], from: TcpState.TCP_STATE_SYN_SENT, to: TcpState.TCP_STATE_ESTABLISHED }),
      ]);
      const stats = await store.stats();
      metrics.report(stats);

      const items = await samples(registry, "tcptrail_store_items");
      expect(items.get('{kind="traces"}')).toBe(2);
      expect(items.get('{kind="events"}')).toBe(2);
      const bytes = await samples(registry, "tcptrail_store_bytes");
      expect(bytes.get('{kind="traces"}')).toBeGreaterThan(0);
      expect(bytes.get('{kind="events"}')).toBeGreaterThan(0);
      expect((await samples(registry, "tcptrail_store_file_bytes")).get("")).toBe(stats.fileBytes);
      expect(stats.fileBytes).toBeGreaterThan(0);
      // The horizon: the older trace and the older event, an hour ago, in unix seconds.
      const oldest = await samples(registry, "tcptrail_store_oldest_seconds");
      expect(oldest.get('{kind="events"}')).toBeCloseTo(oldUs / 1e6, 3);
      const tracesHorizon = oldest.get('{kind="traces"}')!;
      expect(tracesHorizon).toBeGreaterThanOrEqual(oldUs / 1e6 - 1);
      expect(tracesHorizon).toBeLessThan(newUs / 1e6);
    } finally {
      await store.close();
    }
  });
});

describe("the main job's /metrics", () => {
  let job: MainJob | undefined;
  afterEach(async () => {
    await job?.stop();
    job = undefined;
  });

  it("shows the store's gauges from the consumer worker as soon as it is up", async () => {
    job = await startMainJob({ logger: silentLogger, stateDir: tmp.path, apiPort: 0, metricsPort: 0, agentEnabled: false });
    let text = "";
    await waitFor(
      async () => {
        text = await (await fetch(job!.endpoints.metrics!)).text();
        return /^tcptrail_store_file_bytes [1-9]/m.test(text);
      },
      { what: "the store's gauges on /metrics" },
    );
    expect(text).toMatch(/^tcptrail_store_items\{kind="traces"\} 0$/m);
    expect(text).toMatch(/^tcptrail_store_items\{kind="events"\} 0$/m);
    expect(text).toMatch(/^tcptrail_store_bytes\{kind="events"\} \d+$/m);
    expect(text).toMatch(/^# HELP tcptrail_store_oldest_seconds Unix time of the oldest queryable item/m);
  });
});
