// A tracer failing part way through the sweep: what was measured is kept,
// the failure is said, and the tracer is stopped either way.
import { describe, expect, test } from "vitest";
import type { ChurnRun } from "../../bench/paced-churn.js";
import { SWEEP_SERIES, sweepUnder } from "../../bench/sweep-bench.js";
import type { TcptrailExit, TcptrailProcess } from "../../bench/tcptrail-process.js";

/** A stand-in churn and tracer: the tracer's counters hold still, and its /metrics stops answering once the second run started. */
function fakes() {
  let churns = 0;
  let stops = 0;
  const churn = async (rate: number): Promise<ChurnRun> => {
    churns++;
    return { offered: rate, seconds: 1, dialers: 1, acceptors: 1, elapsed: 1, completed: 10, aborted: 5, graceful: 5, failed: 0, achieved: 10, perSecond: [10] };
  };
  const proc: TcptrailProcess = {
    pid: 1,
    metricsUrl: "http://127.0.0.1:1/metrics",
    scrape: async () => {
      if (churns >= 2) throw new Error("GET /metrics: connection refused");
      return new Map([[SWEEP_SERIES.eventsRead, 100]]);
    },
    output: () => "line 1\nlast log line\n",
    stop: async (): Promise<TcptrailExit> => {
      stops++;
      return { exitCode: 0, signal: undefined, killed: false, stopMs: 5 };
    },
  };
  return { churn, proc, stops: () => stops };
}

describe("sweep under one tracer", () => {
  test("a failure mid-sweep keeps the finished rates, records why, and still stops the tracer", async () => {
    const t = fakes();
    let cleaned = 0;
    const r = await sweepUnder("agent", async () => ({ proc: t.proc, cleanup: async () => void cleaned++ }), t.churn, [100, 200, 300], { quietMs: 30, intervalMs: 10 });
    expect(r.paced.map((p) => p.churn.offered)).toEqual([100]);
    expect(r.full).toBeUndefined();
    expect(r.error).toMatch(/connection refused; its log ends:\nline 1\nlast log line/);
    expect(t.stops()).toBe(1);
    expect(cleaned).toBe(1);
    expect(r.exit?.exitCode).toBe(0);
  });

  test("a tracer that does not start is an error, not a throw", async () => {
    const r = await sweepUnder("run", () => Promise.reject(new Error("bpftrace exited before attaching")), fakes().churn, [100]);
    expect(r).toEqual({ paced: [], error: "bpftrace exited before attaching" });
  });
});
