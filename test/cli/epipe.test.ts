// issue 12 part 5: `tcptrail observe --since 10m | head -1` (and alerts)
// crashed with an EPIPE stack trace once the reader went away. The built CLI
// against a real nats-server (observe, alerts) or a real query API over a real
// store (traces -f, issue 13), its stdout read by something that closes after
// the first line: the command must end quietly with status 0.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlertPublisher } from "../../src/alert/mod.js";
import { DEFAULT_STDOUT_CLOSED_GRACE_MS } from "../../src/cli/stdout.js";
import { Severity, v1 } from "../../src/model/mod.js";
import { createLiveHub, startQueryServer, type LiveHub, type QueryServer } from "../../src/query/server/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { EVENTS_STREAM, EventPublisher } from "../../src/transport/mod.js";
import { makeTempDir, setupNats, waitFor, type NatsSetup, type TempDir } from "../helpers/mod.js";
import { meshTrace } from "../store/fixtures.js";
import { makeEvents } from "../transport/helpers.js";

const MAIN = fileURLToPath(new URL("../../dist/src/cli/main.js", import.meta.url));
// More output than a pipe holds (64 KiB on Linux), so the CLI is still writing when the reader leaves.
const MANY = 3_000;

let nats: NatsSetup;
beforeAll(async () => {
  nats = await setupNats();
  const pub = new EventPublisher({ js: nats.js, node: "epipe-1", bootId: "b", agentStartUs: 1 });
  pub.push(makeEvents(MANY, 1, "epipe-1"));
  await pub.close();
  const alerts = new AlertPublisher({ publish: (subject, data) => nats.js.publish(subject, data) });
  for (let i = 0; i < MANY; i++) {
    alerts.send(
      v1.Alert.create({ alertId: `a${i}`, rule: "refused", severity: Severity.SEVERITY_CRITICAL, traceId: `t${i}`, explanation: "nothing listened", timeUs: Date.now() * 1000, count: 1, sourcePod: "tt-a", destination: "10.88.0.3:8080" }),
    );
  }
  await alerts.drain();
}, 60_000);
afterAll(async () => {
  await nats?.close();
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  firstLine: string;
  stderr: string;
  /** From closing the pipe to the process's exit, ms. */
  windDownMs: number;
}

/**
 * Runs the CLI like `tcptrail ... | head -1`: reads up to the first newline,
 * then closes the read end of the pipe. `afterClose` runs once it is closed
 * (a follow needs new events to notice).
 */
function runHeadOne(args: string[], afterClose?: () => Promise<void>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, TCPTRAIL_LOG_LEVEL: "warn" } });
    let out = "";
    let stderr = "";
    let closed = false;
    let closedAt = 0;
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      if (closed) return;
      out += d.toString();
      if (!out.includes("\n")) return;
      closed = true;
      closedAt = performance.now();
      child.stdout.destroy();
      afterClose?.().catch(reject);
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, firstLine: out.split("\n")[0]!, stderr, windDownMs: performance.now() - closedAt }));
  });
}

const consumers = async (): Promise<number> => (await nats.jsm.streams.info(EVENTS_STREAM)).state.consumer_count;

describe("a reader that closes the pipe after one line", () => {
  it("ends `observe --since 10m` quietly with status 0", async () => {
    const before = await consumers();
    const r = await runHeadOne(["observe", "--nats", nats.server.url, "--since", "10m"]);
    // Nothing left behind on the server.
    expect(await consumers()).toBe(before);
    expect(r.firstLine).toMatch(/ epipe-1\/epipe-1-pod STATE_CHANGE /);
    expect(r.stderr).toBe("");
    expect([r.code, r.signal]).toEqual([0, null]);
  }, 30_000);

  it("ends `observe -f` quietly with status 0 once it has something to write, and its consumer goes away", async () => {
    const before = await consumers();
    let seq = MANY;
    const publish = async (n: number): Promise<void> => {
      const pub = new EventPublisher({ js: nats.js, node: "epipe-f", bootId: "b", agentStartUs: 1 });
      pub.push(makeEvents(n, seq + 1, "epipe-f"));
      seq += n;
      await pub.close();
    };
    const run = runHeadOne(["observe", "--nats", nats.server.url, "-f", "--node", "epipe-f"], () => publish(MANY));
    // Follow prints only events newer than its consumer.
    await waitFor(async () => (await consumers()) > before, { what: "observe's consumer on the events stream" });
    await publish(5);
    const r = await run;
    expect(r.firstLine).toMatch(/ epipe-f\/epipe-f-pod /);
    expect(r.stderr).toBe("");
    expect([r.code, r.signal]).toEqual([0, null]);
    // Nothing left behind on the server.
    expect(await consumers()).toBe(before);
  }, 30_000);

  it("ends `alerts --since 10m` quietly with status 0", async () => {
    const r = await runHeadOne(["alerts", "--nats", nats.server.url, "--since", "10m"]);
    expect(r.firstLine).toMatch(/ CRITICAL refused tt-a → 10\.88\.0\.3:8080 trace=t\d+ /);
    expect(r.stderr).toBe("");
    expect([r.code, r.signal]).toEqual([0, null]);
  }, 30_000);
});

describe("a reader that closes the pipe after one line of `traces -f`", () => {
  let tmp: TempDir;
  let store: SqliteTraceStore;
  let hub: LiveHub;
  let server: QueryServer;
  beforeAll(async () => {
    tmp = await makeTempDir("epipe-traces");
    store = new SqliteTraceStore({ path: join(tmp.path, "t.db") });
    hub = createLiveHub();
    server = await startQueryServer({ store, hub, port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await store?.close();
    await tmp?.remove();
  });

  /**
   * What the consumer's trace writer does with finished traces: store them,
   * then announce them, a batch at a time (the API drops a live client more
   * than 4 MiB behind: thousands of traces in one tick would be that, not EPIPE).
   */
  const storeAndAnnounce = async (from: number, n: number): Promise<void> => {
    const nowUs = Date.now() * 1000;
    for (let b = 0; b < n; b += 100) {
      const traces = Array.from({ length: Math.min(100, n - b) }, (_, i) => meshTrace({ id: `follow-${from + b + i}`, k: from + b + i, startUs: nowUs + b + i }));
      await store.putTraces(traces);
      for (const t of traces) hub.publishTrace(t);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  it("ends `traces -f` quietly with status 0 once it has something to write, and its live stream goes away", async () => {
    const before = hub.subscribers.traces;
    const run = runHeadOne(["traces", "-f", "--api", server.url], () => storeAndAnnounce(1, MANY));
    // (MANY compact lines are more than the pipe holds: the CLI is still writing when the reader has gone.)
    // Follow prints only traces stored after its stream opened.
    await waitFor(() => hub.subscribers.traces > before, { what: "traces -f's live stream on the query API" });
    await storeAndAnnounce(0, 1);
    const r = await run;
    expect(r.firstLine).toMatch(/ RESET_BY_SERVER hops=3 /);
    expect(r.stderr).toBe("");
    expect([r.code, r.signal]).toEqual([0, null]);
    // The follow stopped itself, as on Ctrl-C: not cut off by the grace timer of a stdout that closed.
    expect(r.windDownMs).toBeLessThan(DEFAULT_STDOUT_CLOSED_GRACE_MS);
    // Nothing left behind on the server: the SSE connection closed with the process.
    await waitFor(() => hub.subscribers.traces === before, { what: "the live stream closed" });
  }, 30_000);
});
