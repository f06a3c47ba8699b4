// One fault scenario's frame: a private state dir, `tcptrail run` on free
// ports, the loopback workload, and the acceptance check at the end. Every
// process started here is stopped by pid and the dir removed, also when the
// scenario fails.
import { expect } from "vitest";
import { makeTempDir, waitFor, type TempDir } from "../../helpers/mod.js";
import { judge, type GapSpan, type Verdict } from "./connection-verdict.js";
import { startWorkload, type Workload } from "./loopback-workload.js";
import { gapEvents, runPorts, startRun, tracesOnPort, type RunPorts, type TcptrailRun } from "./tcptrail-run.js";

export interface Scenario {
  readonly dir: string;
  readonly node: string;
  readonly ports: RunPorts;
  readonly workload: Workload;
  /** The current `tcptrail run` (a new one after restart()). */
  run: TcptrailRun;
  /** Start `tcptrail run` again on the same state dir and ports (after a kill). */
  restart(): Promise<TcptrailRun>;
  /** Wait until every connection of the workload is traced once or covered by a GAP; the verdict and the GAPs. */
  settle(timeoutMs?: number): Promise<{ verdict: Verdict; gaps: GapSpan[] }>;
}

export async function withScenario(label: string, body: (s: Scenario) => Promise<void>): Promise<void> {
  const dir: TempDir = await makeTempDir(`fault-${label}`);
  const node = `fault-${label}`;
  let workload: Workload | undefined;
  const runs: TcptrailRun[] = [];
  try {
    const ports = await runPorts();
    workload = await startWorkload();
    const w = workload;
    runs.push(await startRun(dir.path, node, ports));
    const s: Scenario = {
      dir: dir.path,
      node,
      ports,
      workload: w,
      run: runs[0]!,
      async restart() {
        const r = await startRun(dir.path, node, ports);
        runs.push(r);
        s.run = r;
        return r;
      },
      async settle(timeoutMs = 30_000) {
        let last: { verdict: Verdict; gaps: GapSpan[] } | undefined;
        try {
          await waitFor(
            async () => {
              const traces = await tracesOnPort(s.run.apiUrl, w.port);
              const gaps = await gapEvents(s.run.natsUrl, node, dir.path);
              last = { verdict: judge(w.done, w.port, traces, gaps), gaps };
              return last.verdict.unexplained.length === 0;
            },
            { what: "every connection traced once or inside a GAP", timeoutMs, intervalMs: 1000 },
          );
        } catch (e) {
          // Say which connections, not only that the wait timed out.
          expect(last?.verdict.unexplained.slice(0, 20), `${String(e)}; GAPs: ${JSON.stringify(last?.gaps, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`).toEqual([]);
          throw e;
        }
        return last!;
      },
    };
    await body(s);
  } finally {
    // SIGINT each run still up (a killed one is already gone); stop() ends a stray nats-server of its own.
    await Promise.allSettled(runs.map((r) => r.proc.stop()));
    await workload?.close();
    await dir.remove();
  }
}
