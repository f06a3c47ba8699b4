// `tcptrail consumer`: the consumer side against an external NATS, on the same
// code path as `run --no-agent` (its options are what `run --no-agent --nats`
// makes of the same flags), and a real start against a private nats-server:
// API, store, no embedded server, no agent. And the agent's --pods.
import { Command, CommanderError } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import { agentSettings, type AgentCliOptions } from "../../src/cli/commands/agent.js";
import { consumerJobOptions, type ConsumerSideCliOptions } from "../../src/cli/commands/consumer.js";
import { registerCommands } from "../../src/cli/commands/mod.js";
import { mainJobOptions, type RunCliOptions } from "../../src/cli/commands/run.js";
import { EXIT_USAGE, exitCodeOf } from "../../src/cli/exit.js";
import { DEFAULT_NATS_URL } from "../../src/cli/flags.js";
import { silentLogger } from "../../src/log/logger.js";
import { startMainJob, type MainJob } from "../../src/runtime/mod.js";
import { makeTempDir, startNatsServer, type TempDir, type TestNatsServer } from "../helpers/mod.js";

/** A command's parsed options, from the real command line with its action swapped for one that keeps them. */
async function parsed<T>(command: string, args: string[]): Promise<T> {
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
  registerCommands(program);
  let given: T | undefined;
  program.commands.find((c) => c.name() === command)!.action((o: T) => void (given = o));
  await program.parseAsync([command, ...args], { from: "user" });
  return given!;
}

let job: MainJob | undefined;
let nats: TestNatsServer | undefined;
let tmp: TempDir | undefined;
afterEach(async () => {
  try {
    await job?.stop();
  } finally {
    job = undefined;
    await nats?.close();
    nats = undefined;
    await tmp?.remove();
    tmp = undefined;
  }
});

// The consumer side's flags, each away from its default.
const SIDE_FLAGS = [
  "--state-dir", "/var/lib/tc-test",
  "--listen", "0.0.0.0:7171",
  "--api-allowed-host", "tcptrail.example",
  "--rules", "/etc/tc/rules.yaml",
  "--webhook", "http://127.0.0.1:9/hook",
  "--proxy-idle-timeout", "1h,30s",
  "--otlp-endpoint", "http://127.0.0.1:4318",
  "--traces-max-age", "2h",
  "--events-max-size", "64MiB",
  "--events-horizon", "30m",
  "--stream-replicas", "3",
  "--nats-user", "consumer",
  "--metrics-port", "9999",
];

describe("tcptrail consumer", () => {
  it("builds the main job `run --no-agent --nats` builds from the same flags, with no agent", async () => {
    const url = "nats://10.0.0.1:4222,nats://10.0.0.2:4222";
    const consumer = consumerJobOptions(await parsed<ConsumerSideCliOptions>("consumer", ["--nats", url, ...SIDE_FLAGS]), silentLogger, "tok");
    const run = mainJobOptions(await parsed<RunCliOptions>("run", ["--no-agent", "--nats", url, ...SIDE_FLAGS]), silentLogger, "tok");
    expect(consumer.agentEnabled).toBe(false);
    expect(consumer.embeddedNats).toBeUndefined();
    // run's own additions (the agent's settings, unused without the agent) aside, the two are one.
    const { agent: _agent, ...runSide } = run;
    expect(consumer).toEqual(runSide);
    expect(consumer).toMatchObject({
      natsUrl: url,
      natsAuth: { user: "consumer" },
      apiHost: "0.0.0.0",
      apiPort: 7171,
      apiToken: "tok",
      metricsPort: 9999,
      streams: { replicas: 3, eventsHorizon: { horizonMs: 1_800_000 } },
      otlp: { endpoint: "http://127.0.0.1:4318" },
    });
  });

  it("connects to --nats (default the usual local server), never starting one", async () => {
    const opts = consumerJobOptions(await parsed<ConsumerSideCliOptions>("consumer", []), silentLogger);
    expect(opts.natsUrl).toBe(DEFAULT_NATS_URL);
    expect(opts.embeddedNats).toBeUndefined();
    expect(opts.agentEnabled).toBe(false);
  });

  it("has no agent flags", async () => {
    for (const flag of ["--node", "--pods", "--bpftrace", "--no-agent"]) {
      const err = await parsed("consumer", [flag, "x"]).catch((e: unknown) => e);
      expect(err, flag).toBeInstanceOf(CommanderError);
    }
  });

  it("starts the store, consumer and API against an external NATS from its command line", async () => {
    nats = await startNatsServer({ label: "consumer-command" });
    tmp = await makeTempDir("consumer-command");
    const opts = await parsed<ConsumerSideCliOptions>("consumer", ["--nats", nats.url, "--state-dir", tmp.path, "--listen", "127.0.0.1:0", "--no-metrics"]);
    job = await startMainJob({ ...consumerJobOptions(opts, silentLogger), consumerThread: "in-thread" });
    expect(Object.keys(job.endpoints).sort()).toEqual(["api", "nats", "store"]);
    expect(job.endpoints.nats).toBe(nats.url);
    expect(job.endpoints.store).toContain(tmp.path);
    const health = await fetch(new URL("/api/v1/healthz", job.endpoints.api));
    expect(health.status).toBe(200);
  });
});

describe("tcptrail agent --pods", () => {
  it("reaches the agent as its pod globs; without it the agent reports every pod", async () => {
    expect(agentSettings(await parsed<AgentCliOptions>("agent", ["--pods", "shop/*, node-1"])).podGlobs).toEqual(["shop/*", "node-1"]);
    expect(agentSettings(await parsed<AgentCliOptions>("agent", [])).podGlobs).toBeUndefined();
  });

  it.each(["", "a,,b", "a b", "x[0]"])("refuses %j as a usage error", async (bad) => {
    const err = await parsed("agent", ["--pods", bad]).catch((e: unknown) => e);
    expect(exitCodeOf(err)).toBe(EXIT_USAGE);
  });
});
