// The three query commands end to end: CLI function -> HTTP -> store; and the
// built CLI (dist/src/cli/main.js) as a user runs it: one time grammar in
// every command, shared flags, and exit codes (2 usage, 1 failure).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTimeline } from "../../src/cli/commands/timeline.js";
import { runTraces } from "../../src/cli/commands/traces.js";
import { runWhy } from "../../src/cli/commands/why.js";
import { isNotFoundError } from "../../src/cli/errors.js";
import { Outcome, TcpState } from "../../src/model/mod.js";
import { startQueryServer, type QueryServer } from "../../src/query/server/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";
import { NODE, meshTrace, sockOf, socketIdOf, stateEvent } from "../store/fixtures.js";

let tmp: TempDir;
let store: SqliteTraceStore;
let server: QueryServer;
const t0 = 7_000_000;
// Traces relative to the wall clock, for durations ago: one inside 1h30m, one outside.
const NOW_US = Date.now() * 1000;

beforeAll(async () => {
  tmp = await makeTempDir("cli");
  store = new SqliteTraceStore({ path: join(tmp.path, "t.db") });
  await store.putTraces([
    meshTrace({ id: "reset-1", k: 1, startUs: t0 }),
    meshTrace({ id: "ok-2", k: 2, startUs: t0 + 1000, outcome: Outcome.OUTCOME_COMPLETED }),
    meshTrace({ id: "recent-3", k: 3, startUs: NOW_US - 3_600e6 }),
    meshTrace({ id: "older-4", k: 4, startUs: NOW_US - 7_200e6 }),
  ]);
  const birth = (n: number) => Number(socketIdOf(1, n, t0).split("/")[2]);
  await store.putEvents({ node: NODE, bootId: "b", agentStartUs: 1 }, [
    stateEvent({ sock: sockOf(1, 1), tNs: birth(1), local: ["10.88.0.2", 40001], remote: ["10.88.0.3", 8080], from: TcpState.TCP_STATE_CLOSE, to: TcpState.TCP_STATE_SYN_SENT }),
    stateEvent({ sock: sockOf(1, 2), tNs: birth(2) + 40_000, local: ["127.0.0.1", 15001], remote: ["10.88.0.2", 40001], from: TcpState.TCP_STATE_LISTEN, to: TcpState.TCP_STATE_SYN_RECV }),
  ]);
  server = await startQueryServer({ store, port: 0 });
});

afterAll(async () => {
  await server?.close();
  await store?.close();
  await tmp?.remove();
});

const collect = async (fn: (write: (l: string) => void) => Promise<void>): Promise<string[]> => {
  const out: string[] = [];
  await fn((l) => out.push(...l.split("\n")));
  return out;
};

describe("query commands", () => {
  it("traces -o json prints one trace object per line, filtered", async () => {
    const lines = await collect((w) => runTraces({ api: server.url, output: "json", outcome: "completed" }, w));
    expect(lines.map((l) => JSON.parse(l).trace_id)).toEqual(["ok-2"]);
    const table = await collect((w) => runTraces({ api: server.url, output: "table" }, w));
    expect(table).toHaveLength(5);
    await expect(runTraces({ api: server.url, output: "json", port: "70000" }, () => undefined)).rejects.toThrow(
      "port must be an integer between 1 and 65535",
    );
  });

  it("why resolves a trace id or an endpoint to the explained chain", async () => {
    const byId = await collect((w) => runWhy("reset-1", { api: server.url, output: "table" }, w));
    expect(byId[0]).toBe("trace reset-1 RESET_BY_SERVER  (3 hops, 12.4 ms)");
    expect(byId.find((l) => l.startsWith("why: "))).toContain("reset the connection on hop 3 (kernel reason TCP_ABORT_ON_CLOSE)");
    const byEndpoint = await collect((w) => runWhy("10.88.0.2:40002", { api: server.url, output: "json" }, w));
    expect(JSON.parse(byEndpoint[0]!).trace_id).toBe("ok-2");
    await expect(runWhy("nope", { api: server.url, output: "table" }, () => undefined)).rejects.toSatisfy(
      (e) => isNotFoundError(e) && e.message === "no trace with id nope",
    );
  });

  it("timeline shows a trace's events in order", async () => {
    const lines = await collect((w) => runTimeline("reset-1", { api: server.url, output: "json" }, w));
    expect(lines.map((l) => JSON.parse(l).new_state)).toEqual(["SYN_SENT", "SYN_RECV"]);
    const table = await collect((w) => runTimeline("10.88.0.2:40001", { api: server.url, output: "table" }, w));
    expect(table[0]).toBe("2 events; trace reset-1 RESET_BY_SERVER");
  });

  it("says how to fix an unreachable API", async () => {
    const dead = "http://127.0.0.1:9";
    await expect(runTraces({ api: dead, output: "table" }, () => undefined)).rejects.toThrow(
      `cannot reach the tcptrail API at ${dead}: is \`tcptrail run\` running?`,
    );
  });
});

const MAIN = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));
const DEAD_NATS = "nats://127.0.0.1:1";

/** The built CLI, as a user runs it (stdout/stderr without their final newline); TCPTRAIL_* from the test's own environment do not leak in. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const r = await execa(process.execPath, [MAIN, ...args], {
    reject: false,
    env: { TCPTRAIL_API: "", TCPTRAIL_NATS: "", TCPTRAIL_STATE_DIR: "", ...env },
    timeout: 30_000,
  });
  return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr), firstErr: String(r.stderr).split("\n")[0] ?? "" };
}
const ids = (stdout: string): string[] => stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l).trace_id as string);

describe("the built CLI", () => {
  it("reads 1h30m (and the rest of the time grammar) in traces, timeline and why", async () => {
    const traces = await cli(["traces", "--since", "1h30m", "-o", "json", "--api", server.url]);
    expect(traces.code, traces.stderr).toBe(0);
    expect(ids(traces.stdout)).toEqual(["recent-3"]);
    const window = await cli(["traces", "--since", "3h", "--until", "1h30m", "-o", "json", "--api", server.url]);
    expect(ids(window.stdout)).toEqual(["older-4"]);
    // µs since the epoch, as start_us shows it, and RFC 3339 with an offset.
    const epoch = await cli(["traces", "--until", String(t0 + 500), "-o", "json", "--api", server.url]);
    expect(ids(epoch.stdout)).toEqual(["reset-1"]);
    const rfc = await cli(["traces", "--until", "1970-01-01T01:00:07.0005+01:00", "-o", "json", "--api", server.url]);
    expect(ids(rfc.stdout)).toEqual(["reset-1"]);

    const why = await cli(["why", "10.88.0.2:40003", "--since", "1h30m", "-o", "json", "--api", server.url]);
    expect(why.code, why.stderr).toBe(0);
    expect(ids(why.stdout)).toEqual(["recent-3"]);
    const whyOlder = await cli(["why", "10.88.0.2:40004", "--since", "1h30m", "--api", server.url]);
    expect(whyOlder.code).toBe(1);
    expect(whyOlder.stderr).toBe("tcptrail: no stored trace goes through 10.88.0.2:40004");

    const all = await cli(["timeline", "reset-1", "-o", "json", "--api", server.url]);
    expect(all.stdout.split("\n").filter(Boolean)).toHaveLength(2);
    const recent = await cli(["timeline", "reset-1", "--since", "1h30m", "-o", "json", "--api", server.url]);
    expect(recent.code, recent.stderr).toBe(0);
    expect(recent.stdout).toBe("");
  });

  it("reads 1h30m in observe and alerts too: they get as far as NATS", async () => {
    for (const cmd of ["observe", "alerts"]) {
      const ok = await cli([cmd, "--since", "1h30m", "--nats", DEAD_NATS]);
      expect(ok.code, ok.stderr).toBe(1);
      expect(ok.firstErr).toMatch(/^tcptrail: cannot reach NATS at nats:\/\/127\.0\.0\.1:1/);
      const bad = await cli([cmd, "--since", "1h30x", "--nats", DEAD_NATS]);
      expect(bad.code).toBe(2);
      expect(bad.firstErr).toContain("--since must be a duration like 5m, 1h30m or 2d");
    }
  });

  it.each([
    ["an unknown flag", ["traces", "--bogus"], "unknown option '--bogus'"],
    ["a missing argument", ["why"], "missing required argument 'target'"],
    ["an unknown command", ["nosuch"], "unknown command 'nosuch'"],
    ["an impossible date", ["traces", "--since", "2026-02-31T00:00:00Z"], "February 2026 has 28 days"],
    ["a bad time", ["timeline", "x", "--until", "5 minutes"], "--until must be a duration like"],
    ["a format the command does not print", ["observe", "-o", "table", "--nats", DEAD_NATS], "expected one of compact, json"],
    ["a value only the API can check", ["traces", "--port", "70000"], "port must be an integer between 1 and 65535"],
    ["an unknown observe filter", ["observe", "--kind", "bogus", "--nats", DEAD_NATS], 'invalid --kind "bogus"'],
    ["a bad --last", ["observe", "--last", "0"], "expected a positive integer"],
    ["a bad integer option", ["run", "--api-port", "99999"], "expected an integer between 0 and 65535"],
  ])("exits 2 on %s, naming it", async (_what, args, says) => {
    const r = await cli(args[0] === "traces" || args[0] === "timeline" ? [...args, "--api", server.url] : args);
    expect(r.code, r.stderr).toBe(2);
    expect(r.firstErr).toMatch(/^tcptrail: /);
    expect(r.firstErr).toContain(says);
  });

  it("exits 1 with one sentence when a target is not found or the API is not there", async () => {
    for (const args of [["timeline", "nonexistent"], ["why", "nonexistent"]]) {
      const r = await cli([...args, "--api", server.url]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^tcptrail: no [^\n]+ nonexistent$/);
      expect(r.stdout).toBe("");
    }
    const dead = await cli(["traces", "--api", "http://127.0.0.1:9"]);
    expect(dead.code).toBe(1);
    expect(dead.stderr).toBe("tcptrail: cannot reach the tcptrail API at http://127.0.0.1:9: is `tcptrail run` running?");
  });

  it("takes the API from TCPTRAIL_API, and --api over it", async () => {
    const fromEnv = await cli(["traces", "--since", "1h30m", "-o", "json"], { TCPTRAIL_API: server.url });
    expect(ids(fromEnv.stdout)).toEqual(["recent-3"]);
    const flagWins = await cli(["traces", "--api", "http://127.0.0.1:9"], { TCPTRAIL_API: server.url });
    expect(flagWins.code).toBe(1);
  });

  it("keeps alerts -o text working as compact, and help exits 0", async () => {
    const text = await cli(["alerts", "-o", "text", "--nats", DEAD_NATS]);
    expect(text.code).toBe(1);
    expect((await cli(["traces", "--help"])).code).toBe(0);
    expect((await cli(["--version"])).stdout.trim()).toBe("0.1.0");
  });
});
