// issue 12 part 5: `tcptrail observe --since 10m | head -1` (and alerts)
// crashed with an EPIPE stack trace once the reader went away. The built CLI
// against a real nats-server, its stdout read by something that closes after
// the first line: the command must end quietly with status 0.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AlertPublisher } from "../../src/alert/mod.js";
import { Severity, v1 } from "../../src/model/mod.js";
import { EVENTS_STREAM, EventPublisher } from "../../src/transport/mod.js";
import { setupNats, waitFor, type NatsSetup } from "../helpers/mod.js";
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
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", (d: Buffer) => {
      if (closed) return;
      out += d.toString();
      if (!out.includes("\n")) return;
      closed = true;
      child.stdout.destroy();
      afterClose?.().catch(reject);
    });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve({ code, signal, firstLine: out.split("\n")[0]!, stderr }));
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

