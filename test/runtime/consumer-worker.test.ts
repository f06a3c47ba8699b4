// The main job's consumer side in its own worker thread: the main thread's
// /metrics and publishing keep going while the worker's loop is busy, the
// worker's tcptrail_consumer_* metrics reach the main /metrics, and a worker
// that dies fails the job instead of leaving it half-alive.
import { createServer, type Server } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runTraces } from "../../src/cli/commands/traces.js";
import { silentLogger } from "../../src/log/logger.js";
import { isConsumerWorkerError, startMainJob, type MainJob } from "../../src/runtime/mod.js";
import { EventPublisher, connectNats, jetstream, type NatsConnection } from "../../src/transport/mod.js";
import { makeTempDir, waitFor, type TempDir } from "../helpers/mod.js";
import { publishAll, suffix } from "../consumer/helpers/harness.js";
import { NODE, sequentialScenarios } from "../consumer/helpers/workload.js";

let tmp: TempDir;
let job: MainJob | undefined;
let nc: NatsConnection | undefined;

beforeEach(async () => {
  tmp = await makeTempDir("consumer-worker");
});
afterEach(async () => {
  try {
    await nc?.close().catch(() => undefined);
    await job?.stop();
  } finally {
    nc = job = undefined;
    await tmp.remove();
  }
});

const start = () => startMainJob({ logger: silentLogger, stateDir: tmp.path, apiPort: 0, metricsPort: 0, agentEnabled: false });

async function scrape(url: string): Promise<{ text: string; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(url);
  const text = await res.text();
  return { text, ms: performance.now() - t0 };
}

async function tracesFromApi(api: string): Promise<number> {
  const lines: string[] = [];
  await runTraces({ api, output: "json" }, (l) => lines.push(l));
  return lines.length;
}

describe("consumer worker", () => {
  it("the main /metrics shows the worker's tcptrail_consumer_* metrics, not stale", async () => {
    job = await start();
    nc = await connectNats(job.endpoints.nats!, { auth: job.natsAuth!.agent });
    const publisher = new EventPublisher({ js: jetstream(nc), node: NODE, bootId: `b-${suffix()}`, agentStartUs: Date.now() * 1000 });
    await publishAll(publisher, sequentialScenarios(["ok"]));
    await publisher.close();
    // The consumer reports its counts once a second: wait for the consumed events to show.
    let text = "";
    await waitFor(
      async () => {
        text = (await scrape(job!.endpoints.metrics!)).text;
        return /^tcptrail_consumer_events_total [1-9]/m.test(text);
      },
      { what: "consumed events on the main /metrics" },
    );
    expect(text).toMatch(/^tcptrail_consumer_lag_seconds /m);
    expect(text).toMatch(/^tcptrail_consumer_metrics_stale 0$/m);
    // The main thread's own metrics are there too, each family once.
    expect(text).toMatch(/^tcptrail_process_process_cpu_user_seconds_total /m);
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    expect(families).toContain("tcptrail_consumer_events_total");
    // A family twice (the worker's idle copy of an agent counter) would leave scrapers reading whichever came last.
    expect(families.length).toBe(new Set(families).size);
  });

  it("while the worker's loop is blocked, /metrics answers within 200 ms (stale) and events are still published", async () => {
    job = await start();
    const worker = job.consumerWorker!;
    expect(worker).toBeDefined();
    nc = await connectNats(job.endpoints.nats!, { auth: job.natsAuth!.agent });
    const publisher = new EventPublisher({ js: jetstream(nc), node: NODE, bootId: `b-${suffix()}`, agentStartUs: Date.now() * 1000 });

    const blockMs = 2000;
    worker.blockForTest(blockMs);
    const blockedAt = performance.now();
    // The block has begun once the worker stops answering.
    await waitFor(async () => (await worker.metricsText(50)) === undefined, { what: "the worker to be blocked" });

    const { text, ms } = await scrape(job.endpoints.metrics!);
    expect(ms).toBeLessThan(200);
    expect(text).toMatch(/^tcptrail_consumer_metrics_stale 1$/m);
    expect(text).toMatch(/^tcptrail_process_process_cpu_user_seconds_total /m);

    // The publishing side (NATS acks on the main thread) keeps going meanwhile.
    await publishAll(publisher, sequentialScenarios(["ok", "no-listener"]));
    await publisher.close();
    expect(await worker.metricsText(50)).toBeUndefined();
    expect(performance.now() - blockedAt).toBeLessThan(blockMs);

    // Afterwards the worker catches up: the traces are served and metrics are fresh again.
    await waitFor(async () => (await tracesFromApi(job!.endpoints.api!)) === 2, { what: "2 traces from the API" });
    expect((await scrape(job.endpoints.metrics!)).text).toMatch(/^tcptrail_consumer_metrics_stale 0$/m);
  });

  it("stop() does not wait longer than its bound for a worker whose loop is stuck", async () => {
    job = await startMainJob({ logger: silentLogger, stateDir: tmp.path, apiPort: 0, agentEnabled: false, consumerStopTimeoutMs: 300 });
    const worker = job.consumerWorker!;
    worker.blockForTest(10_000);
    await waitFor(async () => (await worker.metricsText(50)) === undefined, { what: "the worker to be blocked" });
    const t0 = performance.now();
    await job.stop();
    job = undefined;
    // 300 ms for the worker, then terminate (which ends even a busy loop) and nats-server's own stop.
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("a worker that dies while running settles job.failed with its error", async () => {
    job = await start();
    const api = job.endpoints.api!;
    job.consumerWorker!.crashForTest("stitcher exploded");
    const err = await job.failed;
    expect(isConsumerWorkerError(err)).toBe(true);
    expect(err.message).toContain("stitcher exploded");
    expect((err as Error & { code: string }).code).toBe("ERR_RUNTIME_CONSUMER_WORKER");
    // The worker's API died with it; stopping the rest still works.
    await expect(fetch(`${api}/api/v1/traces`)).rejects.toThrow();
    await job.stop();
    job = undefined;
  });

  it("a worker that cannot start rejects startMainJob with its error, typed", async () => {
    // Take a port so the worker's query API cannot listen on it.
    const taken: Server = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const port = (taken.address() as { port: number }).port;
    try {
      const failure = await startMainJob({ logger: silentLogger, stateDir: tmp.path, apiPort: port, agentEnabled: false }).then(
        (j) => {
          job = j;
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(isConsumerWorkerError(failure)).toBe(true);
      expect((failure as { workerError?: { code?: string } }).workerError?.code).toBe("EADDRINUSE");
    } finally {
      await new Promise((resolve) => taken.close(resolve));
    }
  });
});
