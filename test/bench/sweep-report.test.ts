import { describe, expect, test } from "vitest";
import type { ChurnRun } from "../../bench/paced-churn.js";
import { SWEEP_SERIES, countsBetween, type SweepResult, type TracedChurn } from "../../bench/sweep-bench.js";
import { formatSweep, fullSpeedRows, pacedRows } from "../../bench/sweep-report.js";

function churn(offered: number, completed: number, seconds = 2): ChurnRun {
  return { offered, seconds, dialers: 4, acceptors: 2, elapsed: seconds, completed, aborted: completed / 2, graceful: completed / 2, failed: 0, achieved: completed / seconds, perSecond: [] };
}

function traced(offered: number, completed: number, lines: number, lost = 0): TracedChurn {
  const before = new Map([[SWEEP_SERIES.probeLines, 1000], [SWEEP_SERIES.eventsRead, 900], [SWEEP_SERIES.kernelLost, 7]]);
  const after = new Map([[SWEEP_SERIES.probeLines, 1000 + lines], [SWEEP_SERIES.eventsRead, 900 + lines - 1], [SWEEP_SERIES.kernelLost, 7 + lost]]);
  return { churn: churn(offered, completed), counts: countsBetween(before, after, true, 1500) };
}

const result: SweepResult = {
  options: { rates: [1000, 4000], seconds: 2, dialers: 4, acceptors: 2 },
  bpftrace: { path: "/opt/x/bin/bpftrace", source: "prefix", version: "v0.23.2" },
  untraced: { paced: [churn(1000, 2000), churn(4000, 8000)], full: churn(0, 40_000) },
  tcpdump: { full: churn(0, 30_000), counts: { captured: 123_456, receivedByFilter: 123_500, droppedByKernel: 44 } },
  agent: { paced: [traced(1000, 2000, 24_000), traced(4000, 6000, 72_000, 5)], full: traced(0, 10_000, 120_000) },
  run: { paced: [traced(1000, 2000, 24_000), traced(4000, 4000, 48_000)], full: traced(0, 8000, 96_000), exit: { exitCode: 0, signal: undefined, killed: false, stopMs: 2100 } },
};

describe("sweep report", () => {
  test("counters are the growth between two scrapes", () => {
    const c = traced(1000, 2000, 24_000, 3).counts;
    expect(c).toMatchObject({ probeLines: 24_000, eventsRead: 23_999, kernelLost: 3, queueDropped: 0, consumed: 0 });
  });

  test("paced rows: achieved against offered, lines per connection from the probe lines", () => {
    const rows = pacedRows(result);
    expect(rows.map((r) => [r.mode, r.offered])).toEqual([
      ["untraced", 1000], ["agent", 1000], ["run", 1000],
      ["untraced", 4000], ["agent", 4000], ["run", 4000],
    ]);
    const agent4k = rows[4]!;
    expect(agent4k.achieved).toBe(3000);
    expect(agent4k.ratio).toBeCloseTo(0.75);
    expect(agent4k.linesPerConn).toBe(12);
    expect(agent4k.counts?.kernelLost).toBe(5);
    expect(rows[5]!.ratio).toBeCloseTo(0.5);
    expect(rows[3]!.counts).toBeUndefined();
  });

  test("full-speed rows: each against the untraced run, tcpdump with its own counts", () => {
    const rows = fullSpeedRows(result);
    expect(rows.map((r) => r.mode)).toEqual(["untraced", "tcpdump", "agent", "run"]);
    expect(rows.map((r) => r.ratio)).toEqual([1, 0.75, 0.25, 0.2]);
    expect(rows[1]!.note).toContain("123,456");
    expect(rows[1]!.note).toContain("44 dropped");
  });

  test("the printed tables name the bpftrace and show every row", () => {
    const text = formatSweep(result).join("\n");
    expect(text).toContain("bpftrace v0.23.2 at /opt/x/bin/bpftrace (prefix");
    expect(text).toMatch(/^agent +4,000 +3,000 +0\.75 +71,999 +12\.0 +5 +0 +1\.5 +0$/m);
    expect(text).toMatch(/^tcpdump +full +15,000 +0\.75 /m);
  });

  test("a tracer whose sweep failed keeps the rows it measured and says why and how it stopped", () => {
    const slow = traced(1000, 2000, 24_000);
    slow.counts.slowestScrapeMs = 6500;
    const failed: SweepResult = {
      ...result,
      run: { paced: [slow], error: "GET /metrics: timeout", exit: { exitCode: undefined, signal: "SIGKILL", killed: true, stopMs: 90_000 } },
    };
    expect(pacedRows(failed).map((r) => r.mode)).toEqual(["untraced", "agent", "run", "untraced", "agent"]);
    expect(pacedRows(failed)[2]!.note).toBe("/metrics took 6.5 s to answer");
    expect(fullSpeedRows(failed).map((r) => r.mode)).toEqual(["untraced", "tcpdump", "agent"]);
    const text = formatSweep(failed).join("\n");
    expect(text).toContain("tcptrail run: exited SIGKILL 90.0 s after SIGINT (killed: it did not stop in time)");
    expect(text).toContain("tcptrail run: sweep ended early: GET /metrics: timeout");
    expect(formatSweep(result).join("\n")).toContain("tcptrail run: exited 0 2.1 s after SIGINT");
  });
});
