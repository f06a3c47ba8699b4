// The three query commands end to end: CLI function -> HTTP -> store.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runTimeline } from "../../src/cli/commands/timeline.js";
import { runTraces } from "../../src/cli/commands/traces.js";
import { runWhy } from "../../src/cli/commands/why.js";
import { Outcome, TcpState } from "../../src/model/mod.js";
import { startQueryServer, type QueryServer } from "../../src/query/server/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { NODE, meshTrace, sockOf, socketIdOf, stateEvent } from "../store/fixtures.js";

let dir: string;
let store: SqliteTraceStore;
let server: QueryServer;
const t0 = 7_000_000;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "tcptrail-cli-"));
  store = new SqliteTraceStore({ path: join(dir, "t.db") });
  await store.putTraces([
    meshTrace({ id: "reset-1", k: 1, startUs: t0 }),
    meshTrace({ id: "ok-2", k: 2, startUs: t0 + 1000, outcome: Outcome.OUTCOME_COMPLETED }),
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
  rmSync(dir, { recursive: true, force: true });
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
    expect(table).toHaveLength(3);
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
    await expect(runWhy("nope", { api: server.url, output: "table" }, () => undefined)).rejects.toThrow("no trace with id nope");
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
