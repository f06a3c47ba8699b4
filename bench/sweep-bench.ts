// Capacity sweep (issue 8, "Hold a busy node"): a paced loopback churn at
// each offered rate, untraced, under `tcptrail agent` (with its own
// nats-server) and under `tcptrail run` (everything in one process); then the
// same churn at full speed untraced, under tcpdump, the agent and run, side by
// side. The tracers are the built CLI as users start it, their counters read
// from /metrics once they stopped growing.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startEmbeddedNats } from "../src/transport/mod.js";
import { benchBpftrace } from "./agent-bench.js";
import { runChurn, type ChurnRun } from "./paced-churn.js";
import { sample, type MetricSamples } from "./prometheus-text.js";
import { settle } from "./settle.js";
import type { SweepOptions } from "./sweep-options.js";
import { startTcpdump, type TcpdumpCounts } from "./tcpdump-capture.js";
import { startTcptrail, type TcptrailProcess } from "./tcptrail-process.js";

/** The /metrics series the sweep reads (src/metrics, src/consumer/metrics). */
export const SWEEP_SERIES = {
  eventsRead: "tcptrail_events_read_total",
  probeLines: "tcptrail_probe_lines_total",
  kernelLost: "tcptrail_kernel_lost_events_total",
  queueDropped: "tcptrail_queue_dropped_events_total",
  published: "tcptrail_events_published_total",
  consumed: "tcptrail_consumer_events_total",
} as const;

/** Node name the tracers publish under, so their subjects say they are the bench's. */
export const SWEEP_NODE = "bench-sweep";

export type TracerMode = "agent" | "run";

/** What a tracer's counters did during one churn, through the drain after it. */
export interface TracerCounts {
  eventsRead: number;
  probeLines: number;
  kernelLost: number;
  queueDropped: number;
  published: number;
  /** Events the consumer stored (`run` only; 0 for the agent). */
  consumed: number;
  /** False when the counters were still growing at the settle timeout. */
  settled: boolean;
  /** From the churn's end until the counters stopped growing, ms. */
  drainMs: number;
}

export interface TracedChurn {
  churn: ChurnRun;
  counts: TracerCounts;
}

export interface TracerSweep {
  paced: TracedChurn[];
  full: TracedChurn;
}

export interface SweepResult {
  options: SweepOptions;
  bpftrace: { path: string; source: string; version: string };
  untraced: { paced: ChurnRun[]; full: ChurnRun };
  tcpdump: { full: ChurnRun; counts: TcpdumpCounts };
  agent: TracerSweep;
  run: TracerSweep;
}

/** The counters' growth from `before` to `after`. */
export function countsBetween(before: MetricSamples, after: MetricSamples, settled: boolean, drainMs: number): TracerCounts {
  const d = (s: string) => sample(after, s) - sample(before, s);
  return {
    eventsRead: d(SWEEP_SERIES.eventsRead),
    probeLines: d(SWEEP_SERIES.probeLines),
    kernelLost: d(SWEEP_SERIES.kernelLost),
    queueDropped: d(SWEEP_SERIES.queueDropped),
    published: d(SWEEP_SERIES.published),
    consumed: d(SWEEP_SERIES.consumed),
    settled,
    drainMs,
  };
}

type Churn = (rate: number) => Promise<ChurnRun>;
type Progress = (message: string) => void;

async function tracedChurn(proc: TcptrailProcess, churn: Churn, rate: number, mode: TracerMode): Promise<TracedChurn> {
  const before = await proc.scrape();
  const run = await churn(rate);
  const series = [SWEEP_SERIES.eventsRead, SWEEP_SERIES.probeLines, SWEEP_SERIES.published, ...(mode === "run" ? [SWEEP_SERIES.consumed] : [])];
  const after = await settle(() => proc.scrape(), { series });
  return { churn: run, counts: countsBetween(before, after.samples, after.settled, after.grewUntilMs) };
}

/** Every rate, then full speed, under one tracer process (as a node sees a day's load changes). */
async function sweepTracer(proc: TcptrailProcess, churn: Churn, rates: readonly number[], mode: TracerMode): Promise<TracerSweep> {
  const paced: TracedChurn[] = [];
  for (const rate of rates) paced.push(await tracedChurn(proc, churn, rate, mode));
  return { paced, full: await tracedChurn(proc, churn, 0, mode) };
}

/** SIGINT and wait; a tracer that had to be killed or exited badly is said, since its last counters may be missing. */
async function stopTracer(proc: TcptrailProcess | undefined, mode: TracerMode, progress: Progress): Promise<void> {
  const s = await proc?.stop();
  if (s && (s.killed || s.exitCode !== 0)) {
    progress(`warning: tcptrail ${mode} did not stop cleanly on SIGINT (exit ${s.exitCode ?? s.signal}${s.killed ? ", killed" : ""}):\n${proc?.output() ?? ""}`);
  }
}

async function sweepAgent(dir: string, bpftrace: string, churn: Churn, rates: readonly number[], progress: Progress): Promise<TracerSweep> {
  const nats = await startEmbeddedNats({ stateDir: join(dir, "nats") });
  let proc: TcptrailProcess | undefined;
  try {
    const metricsPort = await freePort();
    proc = await startTcptrail(["agent", "--nats", nats.url, "--metrics-port", String(metricsPort), "--node", SWEEP_NODE, "--bpftrace", bpftrace], { metricsPort });
    return await sweepTracer(proc, churn, rates, "agent");
  } finally {
    await stopTracer(proc, "agent", progress);
    await nats.stop();
  }
}

async function sweepRun(dir: string, bpftrace: string, churn: Churn, rates: readonly number[], progress: Progress): Promise<TracerSweep> {
  let proc: TcptrailProcess | undefined;
  try {
    const [natsPort, apiPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    const args = ["run", "--state-dir", dir, "--nats-port", natsPort, "--api-port", apiPort, "--metrics-port", metricsPort, "--node", SWEEP_NODE, "--bpftrace", bpftrace];
    proc = await startTcptrail(args.map(String), { metricsPort });
    return await sweepTracer(proc, churn, rates, "run");
  } finally {
    await stopTracer(proc, "run", progress);
  }
}

async function tcpdumpChurn(dir: string, churn: Churn): Promise<{ full: ChurnRun; counts: TcpdumpCounts }> {
  const file = join(dir, "churn.pcap");
  const capture = await startTcpdump(file);
  try {
    const full = await churn(0);
    return { full, counts: await capture.stop() };
  } finally {
    await capture.stop();
    // A full-speed capture is hundreds of MB: not kept.
    rmSync(file, { force: true });
  }
}

/** Run the whole sweep; `progress` hears which step starts (it takes minutes) and any warning. */
export async function benchSweep(churnBin: string, o: SweepOptions, progress: Progress = () => undefined): Promise<SweepResult> {
  const b = await benchBpftrace();
  const churn: Churn = (rate) => runChurn(churnBin, { rate, seconds: o.seconds, dialers: o.dialers, acceptors: o.acceptors });
  const dir = mkdtempSync(join(tmpdir(), "tcptrail-sweep-"));
  try {
    progress("untraced");
    const untracedPaced: ChurnRun[] = [];
    for (const rate of o.rates) untracedPaced.push(await churn(rate));
    const untracedFull = await churn(0);
    progress("tcpdump");
    const tcpdump = await tcpdumpChurn(dir, churn);
    progress("agent");
    const agent = await sweepAgent(join(dir, "agent"), b.path, churn, o.rates, progress);
    progress("run");
    const run = await sweepRun(join(dir, "run"), b.path, churn, o.rates, progress);
    return {
      options: o,
      bpftrace: { path: b.path, source: b.source, version: b.version?.text ?? "(unknown version)" },
      untraced: { paced: untracedPaced, full: untracedFull },
      tcpdump,
      agent,
      run,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
