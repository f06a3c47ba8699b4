// Issue 12 part 2, as a cluster runs tcptrail: the consumer side (`run
// --no-agent`) and the node's agent (`tcptrail agent`) are separate
// processes, so when the agent stalls (SIGSTOP for seconds: a long GC, an
// overloaded node) the consumer's wall clock keeps going while that node's
// events stop. The stitcher waits on the node's event time, not its own
// clock: every connection is still traced exactly once, none split into a
// half finished during the stall and a half after it. Root: real processes
// (bpftrace), a plain nats-server between them.
import { execa, type ResultPromise } from "execa";
import { expect, it } from "vitest";
import { startTcptrail } from "../../bench/tcptrail-process.js";
import { freePort } from "../../src/transport/mod.js";
import { describeRoot, makeTempDir, startNatsServer, waitFor } from "../helpers/mod.js";
import { judge, type GapSpan, type Verdict } from "./helpers/connection-verdict.js";
import { startWorkload } from "./helpers/loopback-workload.js";
import { FAULTS_BIN, gapEvents, tracesOnPort } from "./helpers/tcptrail-run.js";

const BEFORE = 200;
const DURING = 800;
/** Well past the stitcher's settle (1 s) and linger (2 s), well inside its stall bound (DEFAULT_STALL_MAX_MS, 30 s). */
const STALL_MS = 6000;

/** `tcptrail run --no-agent` against `natsUrl`, ready once its API answers; stop() is SIGINT and the exit. */
async function startConsumerSide(stateDir: string, natsUrl: string): Promise<{ apiUrl: string; stop: () => Promise<void>; output: () => string }> {
  const api = await freePort();
  const args = ["run", "--no-agent", "--nats", natsUrl, "--state-dir", stateDir, "--listen", `127.0.0.1:${api}`, "--no-metrics", "--events-rate", "200"];
  const child: ResultPromise<{ stdin: "ignore"; reject: false; all: true }> = execa(FAULTS_BIN, args, { stdin: "ignore", reject: false, all: true });
  let tail = "";
  child.all.on("data", (d: Buffer) => void (tail = (tail + d.toString("utf8")).slice(-8192)));
  let exited = false;
  void child.then(() => (exited = true));
  const apiUrl = `http://127.0.0.1:${api}`;
  const stop = async () => {
    if (!exited) child.kill("SIGINT");
    await child;
  };
  try {
    await waitFor(
      async () => {
        if (exited) throw new Error(`run --no-agent exited before its API answered:\n${tail}`);
        return (await fetch(`${apiUrl}/api/v1/healthz`).then((r) => r.ok, () => false)) || undefined;
      },
      { what: "run --no-agent's API", timeoutMs: 60_000, intervalMs: 200 },
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return { apiUrl, stop, output: () => tail };
}

describeRoot("fault: a separate agent SIGSTOPped under load while run --no-agent goes on (root)", () => {
  it("every connection traced exactly once: no half finished during the stall", { timeout: 180_000 }, async () => {
    const dir = await makeTempDir("fault-separate-stall");
    const nats = await startNatsServer({ label: "fault-separate-stall" });
    const node = "fault-separate-stall";
    const workload = await startWorkload();
    const stops: (() => Promise<unknown>)[] = [];
    try {
      const consumer = await startConsumerSide(dir.path, nats.url);
      stops.push(consumer.stop);
      const metrics = await freePort();
      const agent = await startTcptrail(
        ["agent", "--nats", nats.url, "--node", node, "--metrics-port", String(metrics), "--events-rate", "200", "--reorder-window-ms", "50"],
        { metricsPort: metrics, bin: FAULTS_BIN, stopTimeoutMs: 30_000 },
      );
      stops.unshift(() => agent.stop());

      await workload.run(BEFORE);
      const load = workload.run(DURING);
      await waitFor(() => workload.done.length >= BEFORE + 50, { what: "the workload under way" });
      const stoppedAt = workload.done.length;
      process.kill(agent.pid, "SIGSTOP");
      try {
        await waitFor(() => workload.done.length >= stoppedAt + 200, { what: "connections during the stall" });
        await new Promise((r) => setTimeout(r, STALL_MS)); // the fault itself is a duration: nothing to wait for
      } finally {
        process.kill(agent.pid, "SIGCONT");
      }
      await load;
      expect(workload.failures).toEqual([]);
      expect(workload.done).toHaveLength(BEFORE + DURING);

      let last: { verdict: Verdict; gaps: GapSpan[] } | undefined;
      try {
        await waitFor(
          async () => {
            const traces = await tracesOnPort(consumer.apiUrl, workload.port);
            const gaps = await gapEvents(nats.url, node, dir.path);
            last = { verdict: judge(workload.done, workload.port, traces, gaps), gaps };
            return last.verdict.unexplained.length === 0 && last.verdict.traced + last.verdict.inGap.length === BEFORE + DURING;
          },
          { what: "every connection traced once", timeoutMs: 60_000, intervalMs: 1000 },
        );
      } catch (e) {
        expect(last?.verdict.unexplained.slice(0, 20), `${String(e)}\n${consumer.output()}`).toEqual([]);
        throw e;
      }
      // Nothing was lost (the stall only delays the agent), so no GAP excuses anything.
      expect(last!.gaps).toEqual([]);
      expect(last!.verdict.inGap).toEqual([]);
      expect(last!.verdict.traced).toBe(BEFORE + DURING);
    } finally {
      for (const stop of stops) await stop().catch(() => undefined);
      await workload.close();
      await nats.close();
      await dir.remove();
    }
  });
});
