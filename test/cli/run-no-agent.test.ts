// `run --no-agent`: the consumer side alone (store, consumer, query API,
// alerts) for a cluster whose agents run as a DaemonSet
// (deploy/kubernetes/base/api-deployment.yaml runs exactly this).
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { registerCommands } from "../../src/cli/commands/mod.js";
import { mainJobOptions, type RunCliOptions } from "../../src/cli/commands/run.js";
import { silentLogger } from "../../src/log/logger.js";
import { startMainJob, type MainJob } from "../../src/runtime/mod.js";
import { freePort } from "../../src/transport/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";

/** `run`'s parsed options, from the real command line with its action swapped for one that keeps them. */
async function runOptions(args: string[]): Promise<RunCliOptions> {
  const program = new Command().exitOverride();
  registerCommands(program);
  let given: RunCliOptions | undefined;
  program.commands.find((c) => c.name() === "run")!.action((o: RunCliOptions) => void (given = o));
  await program.parseAsync(["run", ...args], { from: "user" });
  return given!;
}

let job: MainJob | undefined;
let tmp: TempDir | undefined;
afterEach(async () => {
  try {
    await job?.stop();
  } finally {
    job = undefined;
    await tmp?.remove();
    tmp = undefined;
  }
});

describe("run --no-agent", () => {
  it("tells the main job to leave the agent out; without it the agent is started", async () => {
    expect(mainJobOptions(await runOptions(["--no-agent"]), silentLogger).agentEnabled).toBe(false);
    expect(mainJobOptions(await runOptions([]), silentLogger).agentEnabled).not.toBe(false);
  });

  it("starts the consumer side and API from the command line as given, and no agent", async () => {
    tmp = await makeTempDir("run-no-agent");
    // Nothing here overrides agentEnabled: the job runs on what the command line gave.
    const opts = await runOptions(["--no-agent", "--state-dir", tmp.path, "--nats-port", String(await freePort()), "--api-port", "0", "--no-metrics"]);
    const options = mainJobOptions(opts, silentLogger);
    // Checked first, so a lost flag fails here instead of starting bpftrace beside other tests.
    expect(options.agentEnabled).toBe(false);
    job = await startMainJob(options);
    expect(Object.keys(job.endpoints).sort()).toEqual(["api", "nats", "store"]);
    const health = await fetch(new URL("/api/v1/healthz", job.endpoints.api));
    expect(health.status).toBe(200);
  });
});
