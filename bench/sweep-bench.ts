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
import type { ChurnRun } from "./paced-churn.js";
import { sample, type MetricSamples } from "./prometheus-text.js";
import { settle, type SettleOptions } from "./settle.js";
import { benchLinkCost, churnBinaryForAnyUid, runChurnAs, type LinkCostResult } from "./sweep-link-cost.js";
import type { SweepOptions } from "./sweep-options.js";
import { startTcpdump, type TcpdumpCounts } from "./tcpdump-capture.js";
import { startTcptrail, type TcptrailExit, type TcptrailProcess } from "./tcptrail-process.js";

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
  /** The slowest /metrics answer around this run, ms: long ones mean the tracer's event loop stalled. */
  slowestScrapeMs: number;
}

export interface TracedChurn {
  churn: ChurnRun;
  counts: TracerCounts;
}

/** One tracer's runs; what was measured before a failure is kept. */
export interface TracerSweep {
  paced: TracedChurn[];
  full?: TracedChurn;
  /** Why the sweep of this tracer stopped early. */
  error?: string;
  /** How it stopped on SIGINT. */
  exit?: TcptrailExit;
}

export interface SweepResult {
  options: SweepOptions;
  bpftrace: { path: string; source: string; version: string };
  untraced: { paced: ChurnRun[]; full: ChurnRun };
  tcpdump: { full: ChurnRun; counts: TcpdumpCounts };
  agent: TracerSweep;
  run: TracerSweep;
  /** With --churn-uid: the socket-link probes' cost, side by side. */
  links?: LinkCostResult;
}

/** The counters' growth from `before` to `after`. */
export function countsBetween(before: MetricSamples, after: MetricSamples, settled: boolean, drainMs: number, slowestScrapeMs = 0): TracerCounts {
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
    slowestScrapeMs,
  };
}

export type Churn = (rate: number) => Promise<ChurnRun>;
type Progress = (step: string) => void;

/** How counters are judged settled; the defaults are settle()'s. */
export type SweepSettleOptions = Omit<SettleOptions, "series">;

async function tracedChurn(proc: TcptrailProcess, churn: Churn, rate: number, mode: TracerMode, settleOpts: SweepSettleOptions): Promise<TracedChurn> {
  let slowestScrapeMs = 0;
  const scrape = async () => {
    const t0 = performance.now();
    const samples = await proc.scrape();
    slowestScrapeMs = Math.max(slowestScrapeMs, performance.now() - t0);
    return samples;
  };
  const before = await scrape();
  const run = await churn(rate);
  const series = [SWEEP_SERIES.eventsRead, SWEEP_SERIES.probeLines, SWEEP_SERIES.published, ...(mode === "run" ? [SWEEP_SERIES.consumed] : [])];
  const after = await settle(scrape, { ...settleOpts, series });
  return { churn: run, counts: countsBetween(before, after.samples, after.settled, after.grewUntilMs, slowestScrapeMs) };
}

/** Every rate, then full speed, into `into` as they finish (so a failure keeps what was measured). */
async function sweepTracer(into: TracerSweep, proc: TcptrailProcess, churn: Churn, rates: readonly number[], mode: TracerMode, settleOpts: SweepSettleOptions): Promise<void> {
  for (const rate of rates) into.paced.push(await tracedChurn(proc, churn, rate, mode, settleOpts));
  into.full = await tracedChurn(proc, churn, 0, mode, settleOpts);
}

const logTail = (log: string, lines = 6) => log.trimEnd().split("\n").slice(-lines).join("\n");

/** Start a tracer, sweep under it (one process for every rate, as a node sees its load change), stop it. Never throws: a failure is recorded. */
export async function sweepUnder(
  mode: TracerMode,
  start: () => Promise<{ proc: TcptrailProcess; cleanup?: () => Promise<void> }>,
  churn: Churn,
  rates: readonly number[],
  settleOpts: SweepSettleOptions = {},
): Promise<TracerSweep> {
  const out: TracerSweep = { paced: [] };
  let started: { proc: TcptrailProcess; cleanup?: () => Promise<void> } | undefined;
  try {
    started = await start();
    await sweepTracer(out, started.proc, churn, rates, mode, settleOpts);
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
  } finally {
    if (started) {
      out.exit = await started.proc.stop();
      if (out.exit.killed || out.exit.exitCode !== 0) out.error ??= "did not stop cleanly on SIGINT";
      if (out.error) out.error += `; its log ends:\n${logTail(started.proc.output())}`;
    }
    await started?.cleanup?.();
  }
  return out;
}

/** The tracers' flag for the churn's UID: the sidecar whose sends are linked. */
const sidecarFlag = (uid: number | undefined): string[] => (uid === undefined ? [] : ["--sidecar-uid", String(uid)]);

function startAgent(dir: string, bpftrace: string, sidecarUid?: number): () => Promise<{ proc: TcptrailProcess; cleanup: () => Promise<void> }> {
  return async () => {
    const nats = await startEmbeddedNats({ stateDir: join(dir, "nats") });
    try {
      const metricsPort = await freePort();
      const args = ["agent", "--nats", nats.url, "--metrics-port", String(metricsPort), "--node", SWEEP_NODE, "--bpftrace", bpftrace, ...sidecarFlag(sidecarUid)];
      return { proc: await startTcptrail(args, { metricsPort }), cleanup: () => nats.stop() };
    } catch (e) {
      await nats.stop();
      throw e;
    }
  };
}

// `run` has no --sidecar-uid: its agent links the default sidecar UID (1337).
function startRun(dir: string, bpftrace: string): () => Promise<{ proc: TcptrailProcess }> {
  return async () => {
    const [natsPort, apiPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    const args = ["run", "--state-dir", dir, "--nats-port", natsPort, "--api-port", apiPort, "--metrics-port", metricsPort, "--node", SWEEP_NODE, "--bpftrace", bpftrace];
    return { proc: await startTcptrail(args.map(String), { metricsPort }) };
  };
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

/** Run the whole sweep; `progress` hears which step starts (it takes minutes). */
export async function benchSweep(churnBin: string, o: SweepOptions, progress: Progress = () => undefined): Promise<SweepResult> {
  const b = await benchBpftrace();
  // As --churn-uid when given (the link probes' worst case), from a copy that UID can run.
  const runnable = o.churnUid === undefined ? undefined : churnBinaryForAnyUid(churnBin);
  const churn: Churn = (rate) => runChurnAs(runnable?.path ?? churnBin, { rate, seconds: o.seconds, dialers: o.dialers, acceptors: o.acceptors }, o.churnUid);
  const dir = mkdtempSync(join(tmpdir(), "tcptrail-sweep-"));
  try {
    const links = o.churnUid === undefined ? undefined : await benchLinkCost(churnBin, { seconds: o.seconds, dialers: o.dialers, acceptors: o.acceptors, churnUid: o.churnUid }, progress);
    progress("untraced");
    const untracedPaced: ChurnRun[] = [];
    for (const rate of o.rates) untracedPaced.push(await churn(rate));
    const untracedFull = await churn(0);
    progress("tcpdump");
    const tcpdump = await tcpdumpChurn(dir, churn);
    progress("agent");
    const agent = await sweepUnder("agent", startAgent(join(dir, "agent"), b.path, o.churnUid), churn, o.rates);
    progress("run");
    const run = await sweepUnder("run", startRun(join(dir, "run"), b.path), churn, o.rates);
    return {
      options: o,
      bpftrace: { path: b.path, source: b.source, version: b.version?.text ?? "(unknown version)" },
      untraced: { paced: untracedPaced, full: untracedFull },
      tcpdump,
      agent,
      run,
      ...(links ? { links } : {}),
    };
  } finally {
    runnable?.remove();
    rmSync(dir, { recursive: true, force: true });
  }
}
