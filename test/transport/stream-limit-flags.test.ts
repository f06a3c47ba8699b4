// Every stream limit is a flag (issue 12 part 3): the traces and alerts
// streams' max age and size come from --traces-stream-max-age/-size and
// --alerts-stream-max-age/-size of the consumer side (run, consumer), reach
// the streams when they are created and when they are updated, and a small
// state dir, whose nats-server cannot reserve the default sizes, starts with
// small ones.
import { execFileSync } from "node:child_process";
import { Command } from "commander";
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_ALERTS_STREAM_MAX_AGE_MS,
  DEFAULT_ALERTS_STREAM_MAX_BYTES,
  DEFAULT_TRACES_STREAM_MAX_AGE_MS,
  DEFAULT_TRACES_STREAM_MAX_BYTES,
} from "../../src/cli/flags.js";
import { consumerJobOptions, type ConsumerSideCliOptions } from "../../src/cli/commands/consumer.js";
import { registerCommands } from "../../src/cli/commands/mod.js";
import { mainJobOptions, type RunCliOptions } from "../../src/cli/commands/run.js";
import { silentLogger } from "../../src/log/logger.js";
import { startMainJob, type MainJob } from "../../src/runtime/mod.js";
import { ALERTS_STREAM, DEFAULT_STREAM_LIMITS, TRACES_STREAM, ensureStreams, freePort } from "../../src/transport/mod.js";
import { itRoot, makeTempDir, setupNats, type TempDir } from "../helpers/mod.js";

const MIB = 1024 ** 2;
const NS_PER_MS = 1_000_000;

/** A command's parsed options, from the real command line with its action swapped for one that keeps them. */
async function parsed<T>(command: "consumer" | "run", args: string[]): Promise<T> {
  const program = new Command().exitOverride();
  registerCommands(program);
  let given: T | undefined;
  program.commands.find((c) => c.name() === command)!.action((o: T) => void (given = o));
  await program.parseAsync([command, ...args], { from: "user" });
  return given!;
}

describe("the traces and alerts stream flags", () => {
  it("default to the transport's limits (the flags repeat them so --help loads no NATS client)", async () => {
    expect(DEFAULT_TRACES_STREAM_MAX_AGE_MS).toBe(DEFAULT_STREAM_LIMITS.traces.maxAgeMs);
    expect(DEFAULT_TRACES_STREAM_MAX_BYTES).toBe(DEFAULT_STREAM_LIMITS.traces.maxBytes);
    expect(DEFAULT_ALERTS_STREAM_MAX_AGE_MS).toBe(DEFAULT_STREAM_LIMITS.alerts.maxAgeMs);
    expect(DEFAULT_ALERTS_STREAM_MAX_BYTES).toBe(DEFAULT_STREAM_LIMITS.alerts.maxBytes);
    const streams = consumerJobOptions(await parsed<ConsumerSideCliOptions>("consumer", []), silentLogger).streams!;
    expect(streams.traces).toEqual({ maxAgeMs: DEFAULT_STREAM_LIMITS.traces.maxAgeMs, maxBytes: DEFAULT_STREAM_LIMITS.traces.maxBytes });
    expect(streams.alerts).toEqual({ maxAgeMs: DEFAULT_STREAM_LIMITS.alerts.maxAgeMs, maxBytes: DEFAULT_STREAM_LIMITS.alerts.maxBytes });
  });

  it("reject what is not a duration or a size, as a usage error", async () => {
    await expect(parsed("consumer", ["--traces-stream-max-age", "soon"])).rejects.toThrow(/--traces-stream-max-age must be/);
    await expect(parsed("run", ["--alerts-stream-max-size", "0B"])).rejects.toThrow(/--alerts-stream-max-size must be more than 0 bytes/);
  });

  it("reach a real nats-server's streams when created and when updated, from `consumer` and `run` alike", async () => {
    const nats = await setupNats({ label: "stream-flags", streams: false });
    try {
      const first = await parsed<ConsumerSideCliOptions>("consumer", [
        "--traces-stream-max-age",
        "2h",
        "--traces-stream-max-size",
        "24MiB",
        "--alerts-stream-max-age",
        "3d",
        "--alerts-stream-max-size",
        "2MiB",
      ]);
      const created = await ensureStreams(nats.jsm, consumerJobOptions(first, silentLogger).streams);
      expect(created.traces.config).toMatchObject({ max_age: 2 * 3_600_000 * NS_PER_MS, max_bytes: 24 * MIB });
      expect(created.alerts.config).toMatchObject({ max_age: 3 * 24 * 3_600_000 * NS_PER_MS, max_bytes: 2 * MIB });
      // The events stream keeps its own (horizon-sized) limits.
      expect(created.events.config.max_age).toBe(DEFAULT_STREAM_LIMITS.events.maxAgeMs * NS_PER_MS);

      // A restart with other values updates the existing streams.
      const second = await parsed<RunCliOptions>("run", ["--no-agent", "--traces-stream-max-age", "90m", "--alerts-stream-max-size", "3MiB"]);
      await ensureStreams(nats.jsm, mainJobOptions(second, silentLogger).streams);
      const traces = await nats.jsm.streams.info(TRACES_STREAM);
      const alerts = await nats.jsm.streams.info(ALERTS_STREAM);
      expect(traces.config).toMatchObject({ max_age: 90 * 60_000 * NS_PER_MS, max_bytes: DEFAULT_STREAM_LIMITS.traces.maxBytes });
      expect(alerts.config).toMatchObject({ max_age: DEFAULT_STREAM_LIMITS.alerts.maxAgeMs * NS_PER_MS, max_bytes: 3 * MIB });
    } finally {
      await nats.close();
    }
  });
});

describe("a small state dir", () => {
  let job: MainJob | undefined;
  let dir: TempDir | undefined;
  let mounted = false;
  afterEach(async () => {
    try {
      await job?.stop();
    } finally {
      job = undefined;
      if (mounted) execFileSync("umount", [dir!.path]);
      mounted = false;
      await dir?.remove();
      dir = undefined;
    }
  });

  // A 128 MiB file system: nats-server reserves 75% of it for JetStream (96 MiB),
  // less than the default traces stream alone (512 MiB), more than the events
  // stream's floor (64 MiB) and small traces and alerts streams together.
  itRoot("does not start the consumer side with the default stream limits, and starts with small ones", async () => {
    dir = await makeTempDir("small-state");
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=128m", "tmpfs", dir.path]);
    mounted = true;
    const common = ["--no-agent", "--state-dir", dir.path, "--nats-port", String(await freePort()), "--api-port", "0", "--no-metrics"];
    const store = ["--traces-max-size", "4MiB", "--events-max-size", "4MiB"];
    // The events stream at its floor (64 MiB): only the traces and alerts streams decide.
    const events = ["--events-horizon", "5m", "--events-rate", "100"];
    const small = ["--traces-stream-max-size", "8MiB", "--alerts-stream-max-size", "1MiB"];

    const refused = await startMainJob(mainJobOptions(await parsed<RunCliOptions>("run", [...common, ...store, ...events]), silentLogger)).then(
      (j) => {
        job = j;
        return null;
      },
      (e: unknown) => e,
    );
    // The consumer worker's start error carries the transport's StreamStorageError.
    expect(String(refused)).toMatch(/StreamStorageError .*stream TCPTRAIL_TRACES needs 0\.5 GB/);

    // Starting at all says every small limit was applied: the default alerts
    // stream (64 MiB) beside the events floor would not fit either.
    job = await startMainJob(mainJobOptions(await parsed<RunCliOptions>("run", [...common, ...store, ...events, ...small]), silentLogger));
    const health = await fetch(new URL("/api/v1/healthz", job.endpoints.api));
    expect(health.status).toBe(200);
  });
});
