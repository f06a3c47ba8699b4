// The API's token and listen address on the command line: one token source
// for `run` and the query commands (--api-token-file, else
// TCPTRAIL_API_TOKEN), a token file shared with group or others refused, the
// built CLI sending the token to a real server, and `run` refusing a
// non-loopback --listen without a token before it starts anything.
import { existsSync } from "node:fs";
import { chmod, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Command } from "commander";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readApiToken } from "../../src/cli/api-token.js";
import { registerCommands } from "../../src/cli/commands/mod.js";
import { mainJobOptions, type RunCliOptions } from "../../src/cli/commands/run.js";
import { isUsageError } from "../../src/cli/errors.js";
import { silentLogger } from "../../src/log/logger.js";
import { isUnprotectedListenError, startQueryServer, type QueryServer } from "../../src/query/server/mod.js";
import { startMainJob } from "../../src/runtime/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { freePort } from "../../src/transport/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";
import { meshTrace } from "../store/fixtures.js";

const TOKEN = "cli-token-5f3a9c1e7b2d4068";
const MAIN = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));
const DEAD_NATS = "nats://127.0.0.1:1";

let tmp: TempDir;
let store: SqliteTraceStore;
let server: QueryServer;

beforeAll(async () => {
  tmp = await makeTempDir("api-token");
  store = new SqliteTraceStore({ path: join(tmp.path, "t.db") });
  await store.putTraces([meshTrace({ id: "tok-1", k: 1, startUs: Date.now() * 1000 - 1e6 })]);
  server = await startQueryServer({ store, port: 0, token: TOKEN });
});

afterAll(async () => {
  await server?.close();
  await store?.close();
  await tmp?.remove();
});

let files = 0;
/** A token file with this content and mode in the test's temp dir. */
async function tokenFile(content: string, mode: number): Promise<string> {
  const path = join(tmp.path, `token-${files++}`);
  await writeFile(path, content);
  // chmod after writing: the umask would otherwise take bits off the mode asked for.
  await chmod(path, mode);
  return path;
}

const usageMessage = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    if (isUsageError(e)) return e.message;
    throw e;
  }
  throw new Error("no usage error");
};

describe("readApiToken", () => {
  it("reads the file without its final newline, over the environment", async () => {
    const file = await tokenFile(`${TOKEN}\n`, 0o600);
    expect(readApiToken({ apiTokenFile: file }, {})).toBe(TOKEN);
    expect(readApiToken({ apiTokenFile: file }, { TCPTRAIL_API_TOKEN: "from-env" })).toBe(TOKEN);
    expect(readApiToken({}, { TCPTRAIL_API_TOKEN: "from-env" })).toBe("from-env");
    expect(readApiToken({}, { TCPTRAIL_API_TOKEN: "" })).toBeUndefined();
    expect(readApiToken({}, {})).toBeUndefined();
  });

  it.each([
    ["0644", "readable by its group or others (mode 0644)"],
    ["0640", "readable by its group or others (mode 0640)"],
    ["0604", "readable by its group or others (mode 0604)"],
    ["0620", "writable by its group or others (mode 0620)"],
  ])("refuses a file of mode %s and says so", async (mode, says) => {
    const file = await tokenFile(TOKEN, parseInt(mode, 8));
    expect(usageMessage(() => readApiToken({ apiTokenFile: file }, {}))).toBe(
      `--api-token-file ${file} is ${says}: it holds the API's token; \`chmod 600 ${file}\``,
    );
  });

  it("refuses a missing or empty file and a token that cannot travel in a header", async () => {
    const missing = join(tmp.path, "no-such-token");
    expect(usageMessage(() => readApiToken({ apiTokenFile: missing }, {}))).toMatch(`cannot read --api-token-file ${missing}: ENOENT`);
    const empty = await tokenFile(" \n", 0o600);
    expect(usageMessage(() => readApiToken({ apiTokenFile: empty }, {}))).toBe(`--api-token-file ${empty} holds no token`);
    const spaced = await tokenFile("two words\n", 0o400);
    expect(usageMessage(() => readApiToken({ apiTokenFile: spaced }, {}))).toMatch(/the token must be printable ASCII characters without spaces/);
    expect(usageMessage(() => readApiToken({}, { TCPTRAIL_API_TOKEN: "a\u00e9b" }))).toMatch(/^TCPTRAIL_API_TOKEN: the token must be/);
  });
});

/** The built CLI; TCPTRAIL_* from the test's environment do not leak in. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const r = await execa(process.execPath, [MAIN, ...args], {
    reject: false,
    env: { TCPTRAIL_API: "", TCPTRAIL_NATS: "", TCPTRAIL_STATE_DIR: "", TCPTRAIL_API_TOKEN: "", ...env },
    timeout: 30_000,
  });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), firstErr: String(r.stderr).split("\n")[0] ?? "" };
}

describe("the built CLI's query commands", () => {
  it("send the token from --api-token-file (traces, why, timeline)", async () => {
    const file = await tokenFile(`${TOKEN}\n`, 0o600);
    const traces = await cli(["traces", "-o", "json", "--api", server.url, "--api-token-file", file]);
    expect(traces.code, traces.stderr).toBe(0);
    expect(JSON.parse(traces.stdout).trace_id).toBe("tok-1");
    const why = await cli(["why", "tok-1", "-o", "json", "--api", server.url, "--api-token-file", file]);
    expect(why.code, why.stderr).toBe(0);
    const timeline = await cli(["timeline", "tok-1", "--api", server.url, "--api-token-file", file]);
    expect(timeline.code, timeline.stderr).toBe(0);
    // The trace has no stored events; the API answers so only past the token check.
    expect(timeline.stdout).toBe("no events for this connection");
  });

  it("send it from TCPTRAIL_API_TOKEN, and the file wins over it", async () => {
    const fromEnv = await cli(["traces", "-o", "json", "--api", server.url], { TCPTRAIL_API_TOKEN: TOKEN });
    expect(fromEnv.code, fromEnv.stderr).toBe(0);
    const wrong = await tokenFile("not-the-token\n", 0o600);
    const fileWins = await cli(["traces", "--api", server.url, "--api-token-file", wrong], { TCPTRAIL_API_TOKEN: TOKEN });
    expect(fileWins.code).toBe(1);
    expect(fileWins.stderr).toBe("tcptrail: the Authorization header does not carry this API's bearer token");
  });

  it("fail with the API's sentence without a token, and exit 2 for a shared token file", async () => {
    const none = await cli(["traces", "--api", server.url]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      "tcptrail: this API requires Authorization: Bearer <token> (the CLI sends it from --api-token-file or TCPTRAIL_API_TOKEN)",
    );
    const shared = await tokenFile(TOKEN, 0o644);
    const r = await cli(["traces", "--api", server.url, "--api-token-file", shared]);
    expect(r.code).toBe(2);
    expect(r.firstErr).toBe(`tcptrail: --api-token-file ${shared} is readable by its group or others (mode 0644): it holds the API's token; \`chmod 600 ${shared}\``);
  });
});

/** `run`'s parsed options, from the real command line with its action swapped for one that keeps them. */
async function runOptions(args: string[]): Promise<RunCliOptions> {
  const program = new Command().exitOverride();
  registerCommands(program);
  let given: RunCliOptions | undefined;
  program.commands.find((c) => c.name() === "run")!.action((o: RunCliOptions) => void (given = o));
  await program.parseAsync(["run", ...args], { from: "user" });
  return given!;
}

describe("run --listen", () => {
  it("carries the listen address, the token and the allowed hosts to the main job", async () => {
    const file = await tokenFile(`${TOKEN}\n`, 0o600);
    const opts = await runOptions(["--listen", "[::]:7071", "--api-token-file", file, "--api-allowed-host", "node-1.example", "--api-allowed-host", "[fd00::2]"]);
    expect(mainJobOptions(opts, silentLogger, readApiToken(opts, {}))).toMatchObject({
      apiHost: "::",
      apiPort: 7071,
      apiToken: TOKEN,
      apiAllowedHosts: ["node-1.example", "fd00::2"],
    });
    const byDefault = mainJobOptions(await runOptions([]), silentLogger);
    expect(byDefault).toMatchObject({ apiHost: "127.0.0.1", apiPort: 7070 });
    expect(byDefault).not.toHaveProperty("apiToken");
    // The older spelling still works.
    expect(mainJobOptions(await runOptions(["--api-port", "7072"]), silentLogger)).toMatchObject({ apiHost: "127.0.0.1", apiPort: 7072 });
  });

  it("makes the main job refuse a non-loopback address without a token before it starts anything", async () => {
    const dir = await makeTempDir("run-listen");
    try {
      const opts = mainJobOptions(await runOptions(["--listen", "0.0.0.0:0", "--state-dir", dir.path, "--nats-port", String(await freePort())]), silentLogger);
      const err = await startMainJob({ ...opts, agentEnabled: false }).then(
        (job) => job.stop().then(() => undefined),
        (e: unknown) => e,
      );
      expect(isUnprotectedListenError(err)).toBe(true);
      // The embedded nats-server never started: it would have made its data directory.
      expect(existsSync(join(dir.path, "nats"))).toBe(false);
    } finally {
      await dir.remove();
    }
  });

  it.each([
    ["a non-loopback address without a token", ["--listen", "0.0.0.0:0"], "tcptrail: the query API would listen on 0.0.0.0, which is not a loopback address, without a token"],
    ["an address without a port", ["--listen", "127.0.0.1"], '--listen must be ADDRESS:PORT, e.g. 127.0.0.1:7070, [::1]:7070, 0.0.0.0:7070 or localhost:7070; got "127.0.0.1"'],
    ["an unbracketed IPv6 address", ["--listen", "::1:7070"], "--listen must be ADDRESS:PORT"],
    ["a port out of range", ["--listen", "127.0.0.1:70000"], "--listen must be ADDRESS:PORT"],
    ["--listen with --api-port", ["--listen", "127.0.0.1:7071", "--api-port", "7072"], "option '--api-port <port>' cannot be used with option '--listen <address:port>'"],
    ["a bad allowed host", ["--api-allowed-host", "evil.example/x"], '--api-allowed-host must be a host name or an IP address; got "evil.example/x"'],
  ])("exits 2 on %s, before it starts anything", async (_what, args, says) => {
    // A dead NATS: were the check missing, run would fail on NATS (exit 1), never reach the agent.
    const r = await cli(["run", "--nats", DEAD_NATS, "--no-metrics", ...args]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.firstErr).toContain(says);
  });

  it("exits 2 on a shared token file, before it starts anything", async () => {
    const shared = await tokenFile(TOKEN, 0o640);
    const r = await cli(["run", "--nats", DEAD_NATS, "--no-metrics", "--listen", "0.0.0.0:0", "--api-token-file", shared]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.firstErr).toContain(`--api-token-file ${shared} is readable by its group or others (mode 0640)`);
  });
});
