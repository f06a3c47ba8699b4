// The agent runs the bpftrace it was given (flag, $TCPTRAIL_BPFTRACE), says
// which version it is, warns when it is too old to keep up, and sizes its
// output buffer for it. Fake bpftrace binaries stand in for real ones here
// (they record the environment they were started with and print a BEGIN line);
// test/probes/program-load.test.ts runs the real ones. Root: the agent's
// preflight checks privileges and tracefs first.
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Command } from "commander";
import { pino } from "pino";
import { describe, expect, test } from "vitest";
import { Agent } from "../../src/agent/mod.js";
import { addAgentOptions, agentSettings, type AgentCliOptions } from "../../src/cli/commands/agent.js";
import { BPFTRACE_ENV, SLOW_BPFTRACE_WARNING } from "../../src/probes/mod.js";
import { describeRoot, tempDirForAll } from "../helpers/mod.js";

const tmp = tempDirForAll("agent-bpftrace");

/** A bpftrace stand-in: answers --version, records its BPFTRACE_* environment, "attaches" and waits to be stopped. */
function fakeBpftrace(name: string, version: string): { bin: string; envFile: string } {
  const home = join(tmp.path, name);
  mkdirSync(home, { recursive: true });
  const bin = join(home, "bpftrace");
  const envFile = join(home, "env");
  writeFileSync(
    bin,
    [
      "#!/bin/sh",
      `[ "$1" = --version ] && echo "bpftrace ${version}" && exit 0`,
      `env | grep '^BPFTRACE_' | sort > '${envFile}'`,
      'echo "Attaching 1 probe..."',
      'echo "B 1000"',
      "exec sleep 600",
      "",
    ].join("\n"),
  );
  chmodSync(bin, 0o755);
  return { bin, envFile };
}

function recordedEnv(envFile: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(envFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("=", 2) as [string, string]),
  );
}

interface LogLine {
  level: number;
  msg: string;
  version?: string;
}

/** Starts an agent with a logger whose lines we can read, and stops it again. */
async function runAgent(opts: { bpftrace?: string; perfRbPages?: number }): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  const logger = pino({ level: "info" }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  const agent = new Agent({ ...opts, node: "fake", sink: () => undefined, logger });
  try {
    await agent.start();
  } finally {
    await agent.stop();
  }
  return lines;
}

describeRoot("the agent and its bpftrace", () => {
  test("bpftrace 0.23: version logged, no warning, 16384 ring-buffer pages and the BPFTRACE_MAX_* names", async () => {
    const { bin, envFile } = fakeBpftrace("new", "v0.23.2");
    const log = await runAgent({ bpftrace: bin });
    expect(log.find((l) => l.msg === "bpftrace v0.23.2")).toBeDefined();
    expect(log.filter((l) => l.level >= 40 && /bpftrace/.test(l.msg))).toEqual([]);
    const env = recordedEnv(envFile);
    expect(env.BPFTRACE_PERF_RB_PAGES).toBe("16384");
    expect(env.BPFTRACE_MAX_MAP_KEYS).toBe("262144");
    expect(env.BPFTRACE_MAX_STRLEN).toBe("64");
    expect(env.BPFTRACE_MAP_KEYS_MAX).toBeUndefined();
    expect(env.BPFTRACE_STRLEN).toBeUndefined();
  });

  test("bpftrace 0.17: one warning line on the 80k events/s cap, 2048 pages per CPU and the old names", async () => {
    const { bin, envFile } = fakeBpftrace("old", "v0.17.0");
    const log = await runAgent({ bpftrace: bin });
    const warnings = log.filter((l) => l.level === 40 && l.msg === SLOW_BPFTRACE_WARNING);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.version).toBe("v0.17.0");
    expect(SLOW_BPFTRACE_WARNING).toMatch(/wake-up per event.*80k events\/s/);
    expect(SLOW_BPFTRACE_WARNING).not.toContain("\n");
    const env = recordedEnv(envFile);
    expect(env.BPFTRACE_PERF_RB_PAGES).toBe("2048");
    expect(env.BPFTRACE_MAP_KEYS_MAX).toBe("262144");
    expect(env.BPFTRACE_MAX_MAP_KEYS).toBeUndefined();
  });

  test("pages the caller chose win over the version's default", async () => {
    const { bin, envFile } = fakeBpftrace("chosen", "v0.23.2");
    await runAgent({ bpftrace: bin, perfRbPages: 4096 });
    expect(recordedEnv(envFile).BPFTRACE_PERF_RB_PAGES).toBe("4096");
  });

  test(`$${BPFTRACE_ENV} chooses the binary when the caller names none`, async () => {
    const { bin, envFile } = fakeBpftrace("from-env", "v0.22.1");
    const before = process.env[BPFTRACE_ENV];
    process.env[BPFTRACE_ENV] = bin;
    try {
      const log = await runAgent({});
      expect(log.find((l) => l.msg === "bpftrace v0.22.1")).toBeDefined();
      expect(recordedEnv(envFile).BPFTRACE_PERF_RB_PAGES).toBe("16384");
    } finally {
      if (before === undefined) delete process.env[BPFTRACE_ENV];
      else process.env[BPFTRACE_ENV] = before;
    }
  });
});

describe("the CLI's bpftrace flags", () => {
  const parse = (argv: string[]) => {
    const cmd = addAgentOptions(new Command("agent").exitOverride());
    cmd.parse(argv, { from: "user" });
    return agentSettings(cmd.opts<AgentCliOptions>());
  };

  test("--bpftrace and --perf-rb-pages reach the agent", () => {
    expect(parse(["--bpftrace", "/opt/x/bin/bpftrace", "--perf-rb-pages", "4096"])).toMatchObject({ bpftrace: "/opt/x/bin/bpftrace", perfRbPages: 4096 });
  });

  test("without them the agent chooses: no binary and no page count is forced", () => {
    const s = parse([]);
    expect(s).not.toHaveProperty("bpftrace");
    expect(s).not.toHaveProperty("perfRbPages");
  });
});
