// `tcptrail run` as one process: embedded NATS, store, consumer, query API and
// alerting. The agent is left out here (it needs bpftrace and is covered by
// test/agent); events are published the way it publishes them, and
// `tcptrail traces` then answers from the API the job serves.
import { join } from "node:path";
import { Command } from "commander";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { registerCommands } from "../../src/cli/commands/mod.js";
import { mainJobOptions, type RunCliOptions } from "../../src/cli/commands/run.js";
import { runTraces } from "../../src/cli/commands/traces.js";
import { silentLogger } from "../../src/log/logger.js";
import type { TraceJson } from "../../src/query/mod.js";
import { startMainJob, type ConsumerThreadMode, type MainJob } from "../../src/runtime/mod.js";
import { EventPublisher, connectNats, freePort, jetstream, type NatsConnection } from "../../src/transport/mod.js";
import { makeTempDir, waitFor, type TempDir } from "../helpers/mod.js";
import { publishAll, suffix } from "../consumer/helpers/harness.js";
import { NODE, sequentialScenarios } from "../consumer/helpers/workload.js";

let tmp: TempDir;
let dir: string;
let job: MainJob | undefined;
let nc: NatsConnection | undefined;

beforeEach(async () => {
  tmp = await makeTempDir("mainjob");
  dir = tmp.path;
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

// The same behaviour whether the consumer side runs in its worker (the default) or on the main thread.
describe.each<ConsumerThreadMode>(["worker", "in-thread"])("main job, consumer %s", (consumerThread) => {
  it("serves stitched traces to `tcptrail traces` and stops cleanly", async () => {
    job = await startMainJob({ logger: silentLogger, stateDir: dir, apiPort: 0, agentEnabled: false, consumerThread });
    expect(Object.keys(job.endpoints).sort()).toEqual(["api", "nats", "store"]);
    expect(job.endpoints.store).toBe(join(dir, "tcptrail.db"));

    // As the agent: the embedded server refuses anonymous clients (test/transport/embedded-auth.test.ts).
    nc = await connectNats(job.endpoints.nats!, { auth: job.natsAuth!.agent });
    const publisher = new EventPublisher({ js: jetstream(nc), node: NODE, bootId: `b-${suffix()}`, agentStartUs: Date.now() * 1000 });
    await publishAll(publisher, sequentialScenarios(["ok", "no-listener"]));
    await publisher.close();

    const lines: string[] = [];
    await waitFor(
      async () => {
        lines.length = 0;
        await runTraces({ api: job!.endpoints.api!, output: "json" }, (l) => lines.push(l));
        return lines.length === 2;
      },
      { what: "2 traces from the API" },
    );
    expect(lines.map((l) => (JSON.parse(l) as { outcome: string }).outcome).sort()).toEqual(["COMPLETED", "REFUSED"]);

    await job.stop();
    const api = job.endpoints.api!;
    job = undefined;
    await expect(fetch(`${api}/api/v1/traces`)).rejects.toThrow();
  });

  it("`run --proxy-idle-timeout` reaches the stitcher: a sidecar's quiet close is compared with it", async () => {
    // The real command line, with run's action swapped for one that keeps what it was given.
    const program = new Command().exitOverride();
    registerCommands(program);
    let given: RunCliOptions | undefined;
    program.commands.find((c) => c.name() === "run")!.action((o: RunCliOptions) => void (given = o));
    const [natsPort, apiPort] = [await freePort(), await freePort()];
    await program.parseAsync(
      ["run", "--state-dir", dir, "--nats-port", String(natsPort), "--api-port", String(apiPort), "--no-metrics", "--proxy-idle-timeout", "1h,2s"],
      { from: "user" },
    );
    // Everything but the agent (it needs root and bpftrace), as `run` would start it.
    job = await startMainJob({ ...mainJobOptions(given!, silentLogger), agentEnabled: false, consumerThread });

    // As the agent: the embedded server refuses anonymous clients (test/transport/embedded-auth.test.ts).
    nc = await connectNats(job.endpoints.nats!, { auth: job.natsAuth!.agent });
    const publisher = new EventPublisher({ js: jetstream(nc), node: NODE, bootId: `b-${suffix()}`, agentStartUs: Date.now() * 1000 });
    // Sidecar a closes both of its legs after 2 s without events.
    await publishAll(publisher, sequentialScenarios(["idle-timeout"]));
    await publisher.close();

    let trace: TraceJson | undefined;
    await waitFor(
      async () => {
        const lines: string[] = [];
        await runTraces({ api: job!.endpoints.api!, output: "json" }, (l) => lines.push(l));
        trace = lines.map((l) => JSON.parse(l) as TraceJson)[0];
        return trace !== undefined;
      },
      { what: "the idle-timeout trace from the API" },
    );
    // Without the flag the stitcher could only presume it ("after 2.0 s (proxy idle timeout)").
    expect(trace!.explanation).toContain("2.0 s idle vs the configured timeout 2 s (proxy idle timeout)");
  });
});
