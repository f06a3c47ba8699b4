// issue 13 part 5: `traces -f` follows new traces through the API's live
// stream (a real query server over a real store; a trace is stored and
// announced after the follow started, as the consumer's trace writer does),
// with the listing's filters; -o names and colour are the shared ones.
import { join } from "node:path";
import { Command } from "commander";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { followTraces, registerTraces, runTraces } from "../../src/cli/commands/traces.js";
import { runWhy } from "../../src/cli/commands/why.js";
import { isUsageError } from "../../src/cli/errors.js";
import { Outcome, type Trace } from "../../src/model/mod.js";
import { isApiUnreachableError } from "../../src/query/mod.js";
import { createLiveHub, startQueryServer, type LiveHub, type QueryServer } from "../../src/query/server/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { makeTempDir, waitFor, type TempDir } from "../helpers/mod.js";
import { meshTrace } from "../store/fixtures.js";

let tmp: TempDir;
let store: SqliteTraceStore;
let hub: LiveHub;
let server: QueryServer;
const NOW_US = Date.now() * 1000;

beforeAll(async () => {
  tmp = await makeTempDir("traces-follow");
  store = new SqliteTraceStore({ path: join(tmp.path, "t.db") });
  await store.putTraces([meshTrace({ id: "stored-before", k: 1, startUs: NOW_US - 60e6, podB: "api" })]);
  hub = createLiveHub();
  server = await startQueryServer({ store, hub, port: 0 });
});

afterAll(async () => {
  await server?.close();
  await store?.close();
  await tmp?.remove();
});

/** What the consumer's trace writer does with a finished trace: store it, then announce it. */
async function storeAndAnnounce(traces: Trace[]): Promise<void> {
  await store.putTraces(traces);
  for (const t of traces) hub.publishTrace(t);
}

describe("traces -f", () => {
  it("prints the traces stored after it started, filtered as a listing is, until stopped", async () => {
    const lines: string[] = [];
    const ac = new AbortController();
    let following!: () => void;
    const started = new Promise<void>((resolve) => (following = resolve));
    const done = followTraces({ api: server.url, output: "json", pod: "api", outcome: "reset_by_server" }, (l) => lines.push(l), {
      signal: ac.signal,
      onFollowing: following,
    });
    await started;
    await storeAndAnnounce([
      meshTrace({ id: "other-pod", k: 2, startUs: NOW_US, podB: "db" }),
      meshTrace({ id: "completed", k: 3, startUs: NOW_US, podB: "api", outcome: Outcome.OUTCOME_COMPLETED }),
      meshTrace({ id: "new-reset", k: 4, startUs: NOW_US, podB: "api" }),
    ]);
    await waitFor(() => lines.length > 0, { what: "the followed trace", timeoutMs: 5_000, intervalMs: 10 });
    ac.abort();
    await done;
    expect(lines.map((l) => JSON.parse(l).trace_id)).toEqual(["new-reset"]);
    await waitFor(() => hub.subscribers.traces === 0, { what: "the API to drop the follower", timeoutMs: 2_000, intervalMs: 10 });
  });

  it("prints compact lines, coloured only when asked", async () => {
    for (const color of [false, true]) {
      const lines: string[] = [];
      const ac = new AbortController();
      let following!: () => void;
      const started = new Promise<void>((resolve) => (following = resolve));
      const done = followTraces({ api: server.url, output: "compact", color }, (l) => lines.push(l), { signal: ac.signal, onFollowing: following });
      await started;
      await storeAndAnnounce([meshTrace({ id: `line-${color}`, k: color ? 6 : 5, startUs: NOW_US })]);
      await waitFor(() => lines.length > 0, { what: "the followed trace", timeoutMs: 5_000, intervalMs: 10 });
      ac.abort();
      await done;
      expect(lines[0]).toContain(`line-${color} ${color ? "\x1b[31mRESET_BY_SERVER\x1b[0m" : "RESET_BY_SERVER"} hops=3 `);
      expect(lines[0]!.includes("\x1b")).toBe(color);
    }
  });

  it("refuses a table, and fails when the API ends the stream", async () => {
    await expect(followTraces({ api: server.url, output: "table" }, () => undefined)).rejects.toSatisfy(isUsageError);
    const other = await startQueryServer({ store, hub: createLiveHub(), port: 0 });
    let following!: () => void;
    const started = new Promise<void>((resolve) => (following = resolve));
    const done = followTraces({ api: other.url, output: "json" }, () => undefined, { onFollowing: following });
    await started;
    await other.close();
    await expect(done).rejects.toSatisfy(isApiUnreachableError);
  });
});

describe("one set of output names, and --color", () => {
  /** Runs `tcptrail traces <args>` through commander, stdout captured, with stdout a TTY or not. */
  async function cli(args: string[], tty: boolean, env: Record<string, string | undefined> = {}): Promise<string> {
    const program = new Command().exitOverride();
    registerTraces(program);
    let out = "";
    const write = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      out += String(chunk);
      return true;
    });
    const wasTty = process.stdout.isTTY;
    const saved = Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]]));
    process.stdout.isTTY = tty;
    for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
    else process.env[k] = v;
    try {
      await program.parseAsync(["traces", "--api", server.url, "--since", "2h", ...args], { from: "user" });
    } finally {
      write.mockRestore();
      process.stdout.isTTY = wasTty;
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    return out;
  }
  const RED = "\x1b[31mRESET_BY_SERVER\x1b[0m";

  it("colours a terminal, not a pipe, not with NO_COLOR, always with --color always, never with never", async () => {
    expect(await cli([], true, { NO_COLOR: undefined, TCPTRAIL_COLOR: undefined })).toContain(RED);
    expect(await cli([], false, { NO_COLOR: undefined, TCPTRAIL_COLOR: undefined })).not.toContain("\x1b");
    expect(await cli([], true, { NO_COLOR: "1", TCPTRAIL_COLOR: undefined })).not.toContain("\x1b");
    expect(await cli(["--color", "always"], false, { NO_COLOR: "1" })).toContain(RED);
    expect(await cli(["--color", "never"], true, { NO_COLOR: undefined })).not.toContain("\x1b");
  });

  it("never colours JSON, and aligns a coloured table as a plain one", async () => {
    const json = await cli(["-o", "json", "--color", "always"], true);
    expect(json).not.toContain("\x1b");
    expect(JSON.parse(json.split("\n")[0]!).trace_id).toBeTruthy();
    const plain = await cli(["--color", "never"], true);
    const coloured = await cli(["--color", "always"], true);
    expect(coloured.replace(/\x1b\[[0-9;]*m/g, "")).toBe(plain);
  });

  it("prints one line per trace with -o compact", async () => {
    const lines: string[] = [];
    await runTraces({ api: server.url, output: "compact", pod: "api", since: NOW_US - 3_600e6 }, (l) => lines.push(l));
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(l).toMatch(/^\d\d:\d\d:\d\d\.\d{3} \S+ [A-Z_]+ hops=\d+ .* -> .* origin=/);
  });
});

describe("why -o compact", () => {
  it("prints the one sentence on one line, and colours the table's outcome only when asked", async () => {
    const lines: string[] = [];
    await runWhy("stored-before", { api: server.url, output: "compact" }, (l) => lines.push(l));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^stored-before: .*reset the connection on hop 3/);
    expect(lines[0]).not.toContain("\n");
    const table: string[] = [];
    await runWhy("stored-before", { api: server.url, output: "table", color: true }, (l) => table.push(l));
    expect(table[0]!.split("\n")[0]).toBe("trace stored-before \x1b[31mRESET_BY_SERVER\x1b[0m  (3 hops, 12.4 ms)");
  });
});
