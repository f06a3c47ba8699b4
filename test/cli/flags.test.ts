// Flags defined once: every command that has --nats, --api, --state-dir,
// --since/--until or -o has the same one (same env variable, same grammar,
// names from one vocabulary), and one rule maps failures to exit codes.
import { Command, CommanderError, InvalidArgumentError, type Option } from "commander";
import { describe, expect, it } from "vitest";
import { registerCommands } from "../../src/cli/commands/mod.js";
import { NotFoundError, UsageError } from "../../src/cli/errors.js";
import { EXIT_FAILURE, EXIT_OK, EXIT_USAGE, exitCodeOf, failureLine } from "../../src/cli/exit.js";
import { InvalidArgumentError as OurInvalidArgument } from "../../src/errors/mod.js";
import { parseDurationUs } from "../../src/timefmt/mod.js";
import * as flags from "../../src/cli/flags.js";
import { DEFAULT_API_LISTEN, DEFAULT_API_URL, DEFAULT_NATS_URL, ENV_PREFIX, FOREIGN_ENV_VARS, OUTPUT_FORMATS, parseListenAddress } from "../../src/cli/flags.js";
import { DEFAULT_API_HOST, DEFAULT_API_PORT } from "../../src/query/server/listen-policy.js";
import { storeRetention, type RunCliOptions } from "../../src/cli/commands/run.js";
import { eventsStreamLimits } from "../../src/cli/commands/agent.js";
import { DEFAULT_API_URL as QUERY_DEFAULT_API_URL } from "../../src/query/mod.js";
import * as storeOptions from "../../src/store/sqlite/options.js";
import * as transport from "../../src/transport/mod.js";
import { NatsUnreachableError, DEFAULT_NATS_URL as TRANSPORT_DEFAULT_NATS_URL } from "../../src/transport/mod.js";

function allCommands(): Command[] {
  const program = new Command();
  registerCommands(program);
  const out: Command[] = [];
  const walk = (c: Command): void => {
    for (const sub of c.commands) {
      out.push(sub);
      walk(sub);
    }
  };
  walk(program);
  return out;
}

const path = (c: Command): string => (c.parent?.parent ? `${c.parent.name()} ${c.name()}` : c.name());
const withFlag = (long: string): [string, Option][] =>
  allCommands().flatMap((c) => c.options.filter((o) => o.long === long).map((o): [string, Option] => [path(c), o]));

describe("shared flags", () => {
  it("repeat their owners' defaults exactly (the flags file must not load NATS, the API client or the store)", () => {
    expect(DEFAULT_NATS_URL).toBe(TRANSPORT_DEFAULT_NATS_URL);
    expect(DEFAULT_API_URL).toBe(QUERY_DEFAULT_API_URL);
    // The store's retention defaults, per kind: when the store's change, these must follow.
    expect(flags.DEFAULT_TRACES_MAX_AGE_MS).toBe(storeOptions.DEFAULT_MAX_AGE_MS);
    expect(flags.DEFAULT_TRACES_MAX_BYTES).toBe(storeOptions.DEFAULT_MAX_BYTES);
    expect(flags.DEFAULT_EVENTS_MAX_AGE_MS).toBe(storeOptions.DEFAULT_EVENTS_MAX_AGE_MS);
    expect(flags.DEFAULT_EVENTS_MAX_BYTES).toBe(storeOptions.DEFAULT_EVENTS_MAX_BYTES);
    expect(flags.DEFAULT_EVENTS_HORIZON_MS).toBe(transport.DEFAULT_EVENTS_HORIZON_MS);
    expect(flags.DEFAULT_EVENTS_RATE).toBe(transport.DEFAULT_EVENTS_RATE);
  });

  it.each([
    ["--nats", "TCPTRAIL_NATS", ["run", "consumer", "agent", "observe", "alerts"]],
    ["--api", "TCPTRAIL_API", ["traces", "timeline", "why"]],
    // observe and alerts: where `run` left its reader's NATS credentials.
    ["--state-dir", "TCPTRAIL_STATE_DIR", ["run", "consumer", "lab up", "lab down", "lab status", "lab scenario", "observe", "alerts"]],
    ...[
      ["--nats-creds", "CREDS"],
      ["--nats-nkey", "NKEY"],
      ["--nats-user", "USER"],
      ["--nats-password-file", "PASSWORD_FILE"],
      ["--nats-token-file", "TOKEN_FILE"],
      ["--nats-tls-ca", "TLS_CA"],
      ["--nats-tls-cert", "TLS_CERT"],
      ["--nats-tls-key", "TLS_KEY"],
    ].map(([flag, env]) => [flag!, `TCPTRAIL_NATS_${env!}`, ["run", "consumer", "agent", "observe", "alerts"]] as [string, string, string[]]),
  ])("%s reads %s in every command that has it", (long, env, commands) => {
    const found = withFlag(long);
    expect(found.map(([c]) => c).sort()).toEqual([...commands].sort());
    for (const [, o] of found) expect(o.envVar).toBe(env);
  });

  it("every environment variable has the one prefix, but the few standard ones of other ecosystems", () => {
    const envs = allCommands().flatMap((c) => c.options.map((o) => o.envVar).filter((e): e is string => e !== undefined));
    expect(envs.length).toBeGreaterThan(0);
    for (const e of envs) expect(e.startsWith(ENV_PREFIX) || FOREIGN_ENV_VARS.includes(e), e).toBe(true);
    expect(FOREIGN_ENV_VARS).toEqual(["OTEL_EXPORTER_OTLP_ENDPOINT"]);
    // run's --otlp-endpoint, the OpenTelemetry SDKs' own variable.
    expect(withFlag("--otlp-endpoint").map(([c, o]) => [c, o.envVar])).toEqual([
      ["run", "OTEL_EXPORTER_OTLP_ENDPOINT"],
      ["consumer", "OTEL_EXPORTER_OTLP_ENDPOINT"],
    ]);
  });

  it("--since and --until read the same grammar everywhere, 1h30m included", () => {
    const found = [...withFlag("--since"), ...withFlag("--until")];
    expect(found.map(([c]) => c)).toEqual(expect.arrayContaining(["observe", "alerts", "traces", "timeline", "why"]));
    for (const [command, o] of found) {
      const before = Date.now() * 1000;
      const us = o.parseArg!<unknown>("1h30m", undefined) as number;
      expect(us, command).toBeGreaterThanOrEqual(before - 5_400e6);
      expect(us, command).toBeLessThanOrEqual(Date.now() * 1000 - 5_400e6);
      expect(() => o.parseArg!("2026-02-31T00:00:00Z", undefined), command).toThrow(InvalidArgumentError);
    }
  });

  it("-o offers names from one vocabulary, and the old alerts name still works", () => {
    const found = withFlag("--output");
    expect(found.map(([c]) => c)).toEqual(expect.arrayContaining(["observe", "alerts", "traces", "timeline", "why", "lab status"]));
    for (const [command, o] of found) {
      expect(o.short, command).toBe("-o");
      for (const name of o.argChoices ?? []) expect(OUTPUT_FORMATS, command).toContain(name);
      expect(o.parseArg!("json", undefined), command).toBe("json");
    }
    const alerts = found.find(([c]) => c === "alerts")![1];
    expect(alerts.parseArg!("text", undefined)).toBe("compact");
    // The alias is the vocabulary's, not alerts' own: every command with compact takes it.
    const traces = found.find(([c]) => c === "traces")![1];
    expect(traces.parseArg!("text", undefined)).toBe("compact");
    expect(() => traces.parseArg!("yaml", undefined)).toThrow(/expected one of compact, table, json/);
  });
});

/** What the time grammar throws for a value that is not a duration. */
function timeError(): unknown {
  try {
    parseDurationUs("five minutes", "--since");
  } catch (e) {
    return e;
  }
  throw new Error("expected the time grammar to refuse");
}

describe("--proxy-idle-timeout", () => {
  const flag = (): Option => {
    const found = withFlag("--proxy-idle-timeout");
    // Only `run` and `consumer` stitch traces; the agent has no use for it.
    expect(found.map(([c]) => c)).toEqual(["run", "consumer"]);
    return found[0]![1];
  };

  it("reads one or more durations of the time grammar, in ms", () => {
    const o = flag();
    expect(o.parseArg!<unknown>("1h,30s", undefined)).toEqual([3_600_000, 30_000]);
    expect(o.parseArg!<unknown>("1h30m", undefined)).toEqual([5_400_000]);
    expect(o.parseArg!<unknown>("250ms, 1.5s", undefined)).toEqual([250, 1_500]);
    expect(o.description).toMatch(/why.*idle-timeout close with certainty/);
  });

  it.each(["", "abc", "1h,,30s", "0s", "30s,0ms", "30"])("refuses %j as a usage error", (value) => {
    let err: unknown;
    try {
      flag().parseArg!(value, undefined);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(exitCodeOf(err)).toBe(EXIT_USAGE);
  });
});

/** What a flag's parser throws for `value`, or undefined when it parses. */
function refusal(o: Option, value: string): unknown {
  try {
    o.parseArg!(value, undefined);
  } catch (e) {
    return e;
  }
  return undefined;
}

const only = (long: string): [string, Option][] => withFlag(long);

describe("the store's retention flags (run)", () => {
  const flag = (long: string): Option => {
    const found = only(long);
    // Only `run` and `consumer` have a store; the agent has none.
    expect(found.map(([c]) => c)).toEqual(["run", "consumer"]);
    return found[0]![1];
  };

  it.each([
    ["--traces-max-age", "90m", 5_400_000],
    ["--traces-max-age", "1h30m", 5_400_000],
    ["--traces-max-age", "7d", 7 * 86_400_000],
    ["--events-max-age", "15m", 900_000],
    ["--events-max-age", "250ms", 250],
  ])("%s reads %j as %d ms (the time grammar)", (long, value, ms) => {
    expect(flag(long).parseArg!<unknown>(value, undefined)).toBe(ms);
  });

  it.each([
    ["--traces-max-size", "512MiB", 512 * 2 ** 20],
    ["--traces-max-size", "10GiB", 10 * 2 ** 30],
    ["--traces-max-size", "1.5GB", 1_500_000_000],
    ["--events-max-size", "64kB", 64_000],
    ["--events-max-size", "256 mib", 256 * 2 ** 20],
    ["--events-max-size", "4096B", 4096],
  ])("%s reads %j as %d bytes (the size grammar)", (long, value, bytes) => {
    expect(flag(long).parseArg!<unknown>(value, undefined)).toBe(bytes);
  });

  it.each([
    ["--traces-max-age", "24", /--traces-max-age must be a duration like 90s.*got "24"/],
    ["--traces-max-age", "1 day", /--traces-max-age must be a duration/],
    ["--events-max-age", "0s", /--events-max-age must be at least 1ms, got "0s"/],
    ["--events-max-age", "-5m", /--events-max-age must be a duration/],
    ["--traces-max-size", "512", /--traces-max-size must be a size like 512MiB, 10GiB, 1.5GB or 4096B; got "512"/],
    ["--traces-max-size", "10GB5", /--traces-max-size must be a size/],
    ["--traces-max-size", "1.5XB", /must be a size/],
    ["--events-max-size", "0MiB", /--events-max-size must be more than 0 bytes, got "0MiB"/],
    ["--events-max-size", "-1GiB", /--events-max-size must be a size/],
    ["--events-max-size", "99999999999TiB", /--events-max-size must be a size/],
  ])("%s refuses %j with a message that says what it takes, as a usage error", (long, value, message) => {
    const err = refusal(flag(long), value);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(message);
    expect(exitCodeOf(err)).toBe(EXIT_USAGE);
  });

  it("--help shows the store's defaults in the grammar they are typed in", () => {
    const help = new Command();
    registerCommands(help);
    const text = help.commands.find((c) => c.name() === "run")!.helpInformation();
    expect(text).toMatch(/--traces-max-age <duration>[\s\S]*?\(default: 1d\)/);
    expect(text).toMatch(/--traces-max-size <size>[\s\S]*?\(default: 8GiB\)/);
    expect(text).toMatch(/--events-max-age <duration>[\s\S]*?\(default: 15m\)/);
    expect(text).toMatch(/--events-max-size <size>[\s\S]*?\(default: 1GiB\)/);
  });

  it("reach the store's RetentionPolicy per kind, defaults and given values alike", async () => {
    const parsed = await parseRun(["--traces-max-age", "2d", "--events-max-size", "200MiB"]);
    expect(storeRetention(parsed)).toEqual({
      maxAgeMs: 2 * 86_400_000,
      maxBytes: storeOptions.DEFAULT_MAX_BYTES,
      eventsMaxAgeMs: storeOptions.DEFAULT_EVENTS_MAX_AGE_MS,
      eventsMaxBytes: 200 * 2 ** 20,
    });
  });
});

/** `run`'s options as commander parses the given flags, with run's action swapped for one that keeps them. */
async function parseRun(args: string[]): Promise<RunCliOptions> {
  // Commander's own report of a refused flag would only clutter the test output: the error is checked.
  const program = new Command().exitOverride().configureOutput({ writeErr: () => undefined });
  registerCommands(program);
  let given: RunCliOptions | undefined;
  program.commands.find((c) => c.name() === "run")!.action((o: RunCliOptions) => void (given = o));
  await program.parseAsync(["run", ...args], { from: "user" });
  return given!;
}

describe("the events stream's horizon flags (agent, run, consumer)", () => {
  const flag = (long: string): Option => {
    const found = only(long);
    expect(found.map(([c]) => c).sort()).toEqual(["agent", "consumer", "run"]);
    return found[0]![1];
  };

  it("--events-horizon reads the time grammar, --events-rate a number of events/s", () => {
    expect(flag("--events-horizon").parseArg!<unknown>("6h", undefined)).toBe(6 * 3_600_000);
    expect(flag("--events-rate").parseArg!<unknown>("20000", undefined)).toBe(20_000);
    expect(flag("--events-rate").parseArg!<unknown>("0.5", undefined)).toBe(0.5);
  });

  it.each([
    ["--events-horizon", "6", /--events-horizon must be a duration/],
    ["--events-horizon", "0m", /at least 1ms/],
    ["--events-rate", "0", /--events-rate must be a number of events per second above 0/],
    ["--events-rate", "5k", /--events-rate must be a number/],
    ["--events-rate", "-10", /--events-rate must be a number/],
  ])("%s refuses %j as a usage error", (long, value, message) => {
    const err = refusal(flag(long), value);
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect((err as Error).message).toMatch(message);
    expect(exitCodeOf(err)).toBe(EXIT_USAGE);
  });

  it("reach the transport as a horizon it sizes the stream from; the old byte flags are gone", async () => {
    const parsed = await parseRun(["--events-horizon", "2h", "--events-rate", "300"]);
    expect(eventsStreamLimits(parsed)).toEqual({ eventsHorizon: { horizonMs: 7_200_000, eventsPerSec: 300 }, replicas: 1 });
    const defaults = await parseRun([]);
    expect(eventsStreamLimits(defaults)).toEqual({
      eventsHorizon: { horizonMs: transport.DEFAULT_EVENTS_HORIZON_MS, eventsPerSec: transport.DEFAULT_EVENTS_RATE },
      replicas: transport.DEFAULT_STREAM_LIMITS.events.replicas,
    });
    for (const old of ["--events-max-age-hours", "--events-max-mib"]) {
      const err = await parseRun([old, "24"]).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(CommanderError);
      expect((err as CommanderError).code).toBe("commander.unknownOption");
    }
  });
});

describe("--stream-replicas (agent, run, consumer)", () => {
  it("is in every command that creates the streams, defaulting to the transport's single replica", () => {
    expect(only("--stream-replicas").map(([c]) => c).sort()).toEqual(["agent", "consumer", "run"]);
    expect(flags.DEFAULT_STREAM_REPLICAS).toBe(transport.DEFAULT_STREAM_LIMITS.events.replicas);
  });

  it("reaches every stream as its replicas; a count JetStream refuses is a usage error", async () => {
    const limits = eventsStreamLimits(await parseRun(["--stream-replicas", "3"]));
    expect(limits.replicas).toBe(3);
    for (const key of ["events", "traces", "alerts"] as const) expect(transport.resolveStreamLimits(key, limits).replicas).toBe(3);
    for (const bad of ["0", "6", "x", "2.5"]) {
      const err = await parseRun(["--stream-replicas", bad]).catch((e: unknown) => e);
      expect(err, bad).toBeInstanceOf(CommanderError);
      expect(exitCodeOf(err), bad).toBe(EXIT_USAGE);
    }
  });
});

describe("exit codes", () => {
  it.each([
    ["help or --version", new CommanderError(0, "commander.helpDisplayed", "(help)"), EXIT_OK],
    ["a commander usage error", new CommanderError(1, "commander.unknownOption", "unknown option"), EXIT_USAGE],
    ["a bad flag value", new InvalidArgumentError("bad"), EXIT_USAGE],
    ["a usage error found by the command", new UsageError("invalid --kind"), EXIT_USAGE],
    ["a value a layer below refused (InvalidArgumentError)", OurInvalidArgument.format("webhook URL", "must be http or https"), EXIT_USAGE],
    ["a bad time (an InvalidArgumentError subclass)", timeError(), EXIT_USAGE],
    ["not found", new NotFoundError("no trace with id x"), EXIT_FAILURE],
    ["a failure of the work (a TcptrailError of another kind)", new NatsUnreachableError("cannot reach NATS", { url: "nats://x" }), EXIT_FAILURE],
    ["any other failure", new Error("cannot reach"), EXIT_FAILURE],
  ])("%s exits %d", (_what, err, code) => {
    expect(exitCodeOf(err)).toBe(code);
  });

  it("the CLI's own kinds have their codes, and a failure is printed as one line", () => {
    expect(new UsageError("x").code).toBe("ERR_CLI_USAGE");
    expect(new NotFoundError("x").code).toBe("ERR_CLI_NOT_FOUND");
    expect(failureLine(new NotFoundError("no trace with id x"))).toBe("tcptrail: no trace with id x");
  });
});

describe("the API's access flags", () => {
  it("--api-token-file is in every command that has --api, and in run and consumer", () => {
    const withApi = withFlag("--api").map(([c]) => c);
    expect(withFlag("--api-token-file").map(([c]) => c).sort()).toEqual([...withApi, "run", "consumer"].sort());
    expect(withFlag("--listen").map(([c]) => c)).toEqual(["run", "consumer"]);
    expect(withFlag("--api-allowed-host").map(([c]) => c)).toEqual(["run", "consumer"]);
  });

  it("--listen defaults to the server's own default, loopback", () => {
    expect(DEFAULT_API_LISTEN).toBe(`${DEFAULT_API_HOST}:${DEFAULT_API_PORT}`);
    expect(withFlag("--listen")[0]![1].defaultValue).toEqual({ host: DEFAULT_API_HOST, port: DEFAULT_API_PORT });
  });

  it.each([
    ["127.0.0.1:7070", { host: "127.0.0.1", port: 7070 }],
    ["0.0.0.0:0", { host: "0.0.0.0", port: 0 }],
    ["[::1]:7070", { host: "::1", port: 7070 }],
    ["[::]:80", { host: "::", port: 80 }],
    ["localhost:7070", { host: "localhost", port: 7070 }],
    ["node-1.example.com:443", { host: "node-1.example.com", port: 443 }],
  ])("--listen reads %s", (value, want) => {
    expect(parseListenAddress(value)).toEqual(want);
  });

  it.each(["127.0.0.1", ":7070", "::1:7070", "[::1]", "[127.0.0.1]:80", "1.2.3.4:65536", "host_name:80", "a b:80", "[::1]:x", "http://h:80"])(
    "--listen refuses %j as a usage error",
    (value) => {
      let err: unknown;
      try {
        parseListenAddress(value);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(exitCodeOf(err)).toBe(EXIT_USAGE);
    },
  );

  it("--api-allowed-host collects names and addresses, repeated", () => {
    const o = withFlag("--api-allowed-host")[0]![1];
    const first = o.parseArg!<string[]>("node-1.example", undefined as unknown as string[]);
    expect(o.parseArg!<string[]>("[fd00::2]", first)).toEqual(["node-1.example", "fd00::2"]);
    expect(() => o.parseArg!("evil.example:80", undefined as unknown as string[])).toThrow(/must be a host name or an IP address/);
  });
});
