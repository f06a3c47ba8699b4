// `npm run bench`: every speed target, measured in one run on this machine.
// Targets are printed next to what was reached; nothing here fails a build.
// Run on a quiet machine: other load moves every number (CPU-time rates are
// printed too where a component measures them).
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { benchBpftrace, benchChurn, benchEventLatency, benchReplay, buildChurn, loadRecording, recordProbeOutput, saveRecording } from "./agent-bench.js";
import { AGENT_FLAGS, agentOptions, type AgentBenchOptions } from "./agent-options.js";
import { parseBenchArgs } from "./bench-args.js";
import { benchCloseToQueryable } from "./consumer-bench.js";
import { DEFAULT_OUTPUT_COST_RATES, benchOutputCost, formatOutputCost } from "./output-cost.js";
import { buildPacedChurn } from "./paced-churn.js";
import { DEFAULT_SCALE_CONNECTIONS_PER_NODE, DEFAULT_SCALE_NODES, benchScale, type ScaleBenchOptions } from "./scale-bench.js";
import { benchSweep } from "./sweep-bench.js";
import { SWEEP_ENV, sweepOptions, type SweepOptions } from "./sweep-options.js";
import { formatSweep } from "./sweep-report.js";
import { benchStitch } from "./stitch-bench.js";
import { benchStore } from "./store-bench.js";
import { SOAK_ENV, STORE_ENV, soakOptions, storeOptions, type SoakCliOptions, type StoreCliOptions } from "./store-options.js";
import { count, formatSoak, formatStoreRun, formatStoreTable } from "./store-report.js";
import { benchStoreSoak } from "./store-soak.js";
import { synthesizeChurnRecording } from "./synthetic-churn.js";

const fmt = (n: number) => Math.round(n).toLocaleString("en-US");
const vs = (got: number, target: number, higherIsBetter = true) =>
  `${higherIsBetter ? (got / target).toFixed(2) : (target / got).toFixed(2)}× target`;

/** The probe output to replay: recorded from bpftrace now, a saved recording, or a synthetic churn. */
async function replayInput(o: AgentBenchOptions, churnBin: () => Promise<string>): Promise<string[]> {
  if (o.replay.kind === "file") {
    const lines = loadRecording(o.replay.path);
    console.log(`replaying ${fmt(lines.length)} lines recorded earlier (${o.replay.path})`);
    return lines;
  }
  if (o.replay.kind === "synthetic") {
    // 2 s of the churn at its traced rate: the same size as a live recording.
    const lines = synthesizeChurnRecording({ pairs: 40_000 });
    console.log(`replaying ${fmt(lines.length)} lines of a synthetic churn recording (bench/synthetic-churn.ts; no bpftrace run)`);
    return lines;
  }
  const b = await benchBpftrace();
  console.log(`bpftrace ${b.version?.text ?? "(unknown version)"} at ${b.path}, BPFTRACE_PERF_RB_PAGES=${b.env.BPFTRACE_PERF_RB_PAGES} (TCPTRAIL_BPFTRACE chooses another)\n`);
  const lines = await recordProbeOutput(await churnBin(), 2);
  console.log(`recorded ${fmt(lines.length)} lines of real bpftrace output during a 2 s loopback churn`);
  return lines;
}

async function agent(dir: string, o: AgentBenchOptions): Promise<void> {
  let built: string | undefined;
  const buildChurnBin = async (): Promise<string> => {
    built ??= await buildChurn(dir);
    if (!built) throw new Error("gcc is needed to build the loopback churn (deploy/setup.sh installs it)");
    return built;
  };
  console.log("== agent: replay of recorded probe output (one core) ==");
  const recorded = await replayInput(o, buildChurnBin);
  if (o.saveRecording) saveRecording(recorded, o.saveRecording);
  const r = await benchReplay(recorded);
  console.log(`lines replayed               ${fmt(r.lines)} (malformed: ${r.malformed})`);
  console.log(`parse                        ${fmt(r.parsePerSec)} events/s (${fmt(r.parsePerCpuSec)} per CPU-second)`);
  console.log(`parse+order+attribute        ${fmt(r.agentPerSec)} events/s (${fmt(r.agentPerCpuSec)} per CPU-second)`);
  console.log(`protobuf encode (batches)    ${fmt(r.encodePerSec)} events/s (${fmt(r.encodePerCpuSec)} per CPU-second)`);
  console.log(`parse → encode → publish     ${fmt(r.endToEndPerSec)} events/s acked by JetStream, in-thread pipeline (${fmt(r.endToEndPerCpuSec)} per CPU-second)`);
  console.log(`  with the worker pipeline   ${fmt(r.workerEndToEndPerSec)} events/s acked by JetStream, as the agent service runs it (${fmt(r.workerEndToEndPerCpuSec)} per CPU-second, all threads; target ≥ 400,000: ${vs(r.workerEndToEndPerSec, 4e5)})`);

  // The rest needs bpftrace: a replay of saved or synthetic output is all there is to measure without it.
  if (o.replay.kind !== "bpftrace") return;
  const churnBin = await buildChurnBin();

  console.log("\n== agent: connect() → event decoded by a JetStream subscriber (what observe -f sees) ==");
  const l = await benchEventLatency(50);
  console.log(`event latency                p50 ${l.p50Ms.toFixed(0)} ms, p99 ${l.p99Ms.toFixed(0)} ms, max ${l.maxMs.toFixed(0)} ms over ${l.samples} connections (target: within 1 s)`);

  console.log("\n== agent: live loopback churn (2 dialers, 1 acceptor) on this 2-core machine, alternating runs ==");
  const c = await benchChurn(churnBin, 3, 2);
  console.log(`untraced conns/s             ${c.untraced.map(fmt).join(", ")}`);
  console.log(`bpftrace only conns/s        ${c.bpftraceOnly.map(fmt).join(", ")}  (probes running, output discarded)`);
  console.log(`traced conns/s               ${c.traced.map(fmt).join(", ")}  (full agent publishing to NATS)`);
  console.log(`bpftrace only / untraced     ${c.bpftraceOnlyRatio.toFixed(2)}`);
  console.log(`traced / untraced            ${c.ratio.toFixed(2)}`);
  console.log(`while traced: events read ${fmt(c.eventsRead)}, lost in kernel ${fmt(c.kernelLost)}, dropped in queue ${fmt(c.queueDropped)}`);
}

async function stitcher(): Promise<void> {
  console.log("\n== stitcher (one core) ==");
  const s = await benchStitch();
  console.log(`stitched                     ${fmt(s.eventsPerSec)} events/s wall, ${fmt(s.eventsPerCpuSec)} per CPU-second (target ≥ 300,000: ${vs(s.eventsPerSec, 3e5)}); ${fmt(s.traces)} traces`);
  console.log(`memory per live socket       ${fmt(s.bytesPerLiveSocket)} bytes at ${fmt(s.openSockets)} open sockets (target ≤ 300: ${vs(s.bytesPerLiveSocket, 300, false)})`);
}

async function store(o: StoreCliOptions): Promise<void> {
  console.log(`\n== store (SQLite, compact): ${o.sizes.map(count).join(", ")} stored connections of ${o.traffic.join(", ")} traffic ==`);
  console.log("(--sizes 1M,10M,100M --traffic mesh,churn,lab --runs 20, or TCPTRAIL_BENCH_SIZES / _TRAFFIC / _RUNS)");
  const results = [];
  for (const connections of o.sizes) {
    for (const traffic of o.traffic) {
      const r = await benchStore({ traffic, connections, queryRuns: o.runs, progress: (step) => console.log(`... ${traffic} ${count(connections)}: ${step}`) });
      for (const line of formatStoreRun(r)) console.log(line);
      results.push(r);
    }
  }
  console.log("");
  for (const line of formatStoreTable(results)) console.log(line);
}

async function storeSoak(dir: string, o: SoakCliOptions): Promise<void> {
  console.log(`\n== store soak: \`tcptrail run\` under a paced churn of ${fmt(o.rate)} conns/s for ${o.minutes} min ==`);
  console.log("(--minutes 10 --rate 1000, or TCPTRAIL_BENCH_MINUTES / _RATE)");
  const churnBin = await buildPacedChurn(dir);
  const r = await benchStoreSoak(churnBin, o, (step) => console.log(`... ${step}`));
  for (const line of formatSoak(r)) console.log(line);
  if (r.error) process.exitCode = 1;
}

async function consumer(): Promise<void> {
  console.log("\n== consumer: connection closed → trace queryable (NATS → stitch → SQLite), 100 connections/s ==");
  const c = await benchCloseToQueryable();
  console.log(`close → queryable            p50 ${c.p50Ms.toFixed(0)} ms, p99 ${c.p99Ms.toFixed(0)} ms, max ${c.maxMs.toFixed(0)} ms (target p99 ≤ 1000 ms: ${vs(c.p99Ms, 1000, false)}); ${c.missing} of ${c.connections} missing`);
}

async function sweep(dir: string, o: SweepOptions): Promise<void> {
  console.log(`\n== capacity sweep: offered ${o.rates.map(fmt).join(", ")} conns/s, untraced vs \`tcptrail agent\` vs \`tcptrail run\`; then full speed with tcpdump ==`);
  console.log("(--rates 5k,10k --seconds 5 --dialers 4 --acceptors 2, or TCPTRAIL_BENCH_RATES / _SECONDS / _DIALERS / _ACCEPTORS)");
  const churnBin = await buildPacedChurn(dir);
  const r = await benchSweep(churnBin, o, (step) => console.log(`... ${step}`));
  for (const line of formatSweep(r)) console.log(line);
}

/** `--nodes N --connections M` (per node), whole numbers >= 1. */
function scaleOptions(flags: ReadonlyMap<string, string>): ScaleBenchOptions {
  const whole = (name: string, fallback: number): number => {
    const text = flags.get(name);
    if (text === undefined) return fallback;
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1, got "${text}"`);
    return n;
  };
  return { nodes: whole("nodes", DEFAULT_SCALE_NODES), connectionsPerNode: whole("connections", DEFAULT_SCALE_CONNECTIONS_PER_NODE) };
}

async function scale(o: ScaleBenchOptions): Promise<void> {
  console.log(`\n== scale: ${o.nodes} simulated nodes × ${fmt(o.connectionsPerNode)} connections → one nats-server → one consumer (docs/SCALING.md) ==`);
  console.log("(--nodes 20 --connections 5000)");
  const r = await benchScale(o, (step) => console.log(`... ${step}`));
  console.log(`ingest                       ${fmt(r.ingestEventsPerSec)} events/s acked by JetStream from ${r.nodes} publishers (${r.streamBytesPerEvent.toFixed(1)} stream bytes per event)`);
  console.log(`one consumer                 ${fmt(r.consumeEventsPerSec)} events/s pulled, stitched and stored; ${fmt(r.tracesPerSec)} traces/s; ${fmt(r.traces)} of ${fmt(r.connections)} connections' traces stored, ${fmt(r.extraTraces)} others`);
  if (r.traces !== r.connections || r.extraTraces !== 0) process.exitCode = 1;
}

async function outputCost(dir: string, o: SweepOptions): Promise<void> {
  console.log(`\n== output cost: the same tracepoints printed by bpftrace vs read from a libbpf ring buffer, paced churn at ${o.rates.map(fmt).join(", ")} conns/s and full speed, ${o.seconds} s each ==`);
  console.log("(--rates 20k --seconds 5, or TCPTRAIL_BENCH_RATES / _SECONDS)");
  const churnBin = await buildPacedChurn(dir);
  const r = await benchOutputCost(churnBin, dir, o, (step) => console.log(`... ${step}`));
  for (const line of formatOutputCost(r)) console.log(line);
}

const PARTS = ["agent", "stitch", "store", "consumer", "scale", "sweep", "store-soak", "output-cost"];
/**
 * Parts that run only when named: the soak takes ten minutes of a real tracer;
 * output-cost is an experiment for issue 8's next step, not a target, and
 * needs clang and libbpf.
 */
const ON_REQUEST = new Set(["store-soak", "output-cost"]);
/** The flags each part takes. */
const PART_FLAGS: Record<string, readonly string[]> = {
  agent: AGENT_FLAGS,
  sweep: Object.keys(SWEEP_ENV),
  store: Object.keys(STORE_ENV),
  "store-soak": Object.keys(SOAK_ENV),
  "output-cost": ["rates", "seconds"],
  scale: ["nodes", "connections"],
};

async function main(): Promise<void> {
  const { parts: only, flags } = parseBenchArgs(process.argv.slice(2));
  const unknown = [...only].filter((p) => !PARTS.includes(p));
  if (unknown.length > 0) throw new Error(`unknown bench part ${unknown.join(", ")}: the parts are ${PARTS.join(", ")}`);
  const want = (name: string) => only.has(name) || (only.size === 0 && !ON_REQUEST.has(name));
  const taken = PARTS.filter(want).flatMap((p) => PART_FLAGS[p] ?? []);
  const badFlags = [...flags.keys()].filter((f) => !taken.includes(f));
  if (badFlags.length > 0) {
    const offered = Object.entries(PART_FLAGS).map(([p, fs]) => `${p} takes --${fs.join(", --")}`);
    throw new Error(`unknown flag --${badFlags.join(", --")} for the parts run: ${offered.join("; ")}`);
  }
  // Checked before any part runs: a typo in a rate or size should not cost the minutes before its part.
  const sweepOpts = want("sweep") ? sweepOptions(flags) : undefined;
  const storeOpts = want("store") ? storeOptions(flags) : undefined;
  const soakOpts = want("store-soak") ? soakOptions(flags) : undefined;
  const scaleOpts = want("scale") ? scaleOptions(flags) : undefined;
  const outputCostOpts = want("output-cost") ? sweepOptions(flags) : undefined;
  if (outputCostOpts && !flags.has("rates") && process.env[SWEEP_ENV.rates] === undefined) outputCostOpts.rates = [...DEFAULT_OUTPUT_COST_RATES];
  const agentOpts = agentOptions(flags);
  const dir = mkdtempSync(join(tmpdir(), "tcptrail-bench-"));
  try {
    if (want("agent")) await agent(dir, agentOpts);
    if (want("stitch")) await stitcher();
    if (storeOpts) await store(storeOpts);
    if (want("consumer")) await consumer();
    if (scaleOpts) await scale(scaleOpts);
    if (sweepOpts) await sweep(dir, sweepOpts);
    if (soakOpts) await storeSoak(dir, soakOpts);
    if (outputCostOpts) await outputCost(dir, outputCostOpts);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
