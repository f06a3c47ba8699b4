// Agent benchmarks: (1) a recording of real probe output replayed through
// parse → order/attribute → encode → publish on one core, stage by stage;
// (2) a live loopback connection churn with and without the agent running.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { Agent } from "../src/agent/mod.js";
import { silentLogger } from "../src/log/logger.js";
import { monotonicNs, type ConnEventInit } from "../src/model/mod.js";
import {
  LineParser,
  bpftraceLimitsEnv,
  bpftraceVersion,
  defaultPerfRbPages,
  defaultProgramPath,
  findBpftrace,
  findExecutable,
  type BpftraceSource,
  type BpftraceVersion,
  type ParsedEvent,
} from "../src/probes/mod.js";
import { startAgentService, workerPipeline } from "../src/runtime/mod.js";
import { replayLines } from "./replay-lines.js";
import {
  EventPublisher,
  connectNats,
  encodeBatch,
  ensureStreams,
  jetstream,
  jetstreamManager,
  startEmbeddedNats,
} from "../src/transport/mod.js";

const CHURN_SRC = new URL("../../bench/churn.c", import.meta.url).pathname;

export async function buildChurn(dir: string): Promise<string | undefined> {
  const cc = findExecutable("gcc") ?? findExecutable("cc");
  if (!cc) return undefined;
  const out = join(dir, "churn");
  await execa(cc, ["-O2", "-pthread", "-o", out, CHURN_SRC]);
  return out;
}

async function churn(bin: string, seconds: number, threads: number): Promise<number> {
  const r = await execa(bin, [String(seconds), String(threads)]);
  return Number(r.stdout.trim());
}

/** The bpftrace the agent would run ($TCPTRAIL_BPFTRACE, the private install, PATH), its version and the environment the agent gives it. */
export async function benchBpftrace(): Promise<{ path: string; source: BpftraceSource; version: BpftraceVersion | undefined; env: Record<string, string> }> {
  const found = findBpftrace();
  if (!found) throw new Error("bpftrace is not installed");
  const version = await bpftraceVersion(found.path);
  return { path: found.path, source: found.source, version, env: bpftraceLimitsEnv(version, { perfRbPages: defaultPerfRbPages(version), mapKeysMax: 262_144, strlen: 64 }) };
}

/** Record real probe output while the churn runs. */
export async function recordProbeOutput(bin: string, seconds: number): Promise<string[]> {
  const bpftrace = await benchBpftrace();
  const child = execa(bpftrace.path, [defaultProgramPath()], {
    env: bpftrace.env,
    reject: false,
    buffer: { stdout: true, stderr: false },
    maxBuffer: 1 << 30,
  });
  // wait for BEGIN
  await new Promise<void>((resolve) => {
    child.stdout?.on("data", (d: Buffer) => {
      if (d.toString().includes("\nB ") || d.toString().startsWith("B ")) resolve();
    });
    setTimeout(resolve, 15_000);
  });
  await churn(bin, seconds, 2);
  child.kill("SIGINT");
  const r = await child;
  return String(r.stdout).split("\n").filter((l) => l.length > 0);
}

/** Events stage 2 keeps for stage 3, which encodes them ENCODE_ROUNDS times. */
const ENCODE_SAMPLE = 200_000;
const ENCODE_ROUNDS = 5;

/** Far enough ahead that no replay catches up with the clock. */
const REPLAY_AHEAD_NS = 3600n * 1_000_000_000n;

function rate(n: number, ms: number): number {
  return Math.round((n / ms) * 1000);
}

export interface ReplayResult {
  lines: number;
  /** Events per second of each stage alone (wall clock), and per CPU-second of this process. */
  parsePerSec: number;
  agentPerSec: number;
  encodePerSec: number;
  parsePerCpuSec: number;
  agentPerCpuSec: number;
  encodePerCpuSec: number;
  endToEndPerSec: number;
  /** The same end to end with the agent service's worker pipeline: raw chunks in, encoded batches out. */
  workerEndToEndPerSec: number;
  /** Events per second of this process's CPU time (all threads) in each end-to-end run. */
  endToEndPerCpuSec: number;
  workerEndToEndPerCpuSec: number;
  published: number;
  workerPublished: number;
  malformed: number;
}

/** The lines as bpftrace's stdout would carry them: 64 KiB chunks (a pipe read), each its own Buffer, cut mid-line. */
function asChunks(lines: string[], size = 65536): Buffer[] {
  const all = Buffer.from(lines.join("\n") + "\n");
  const chunks: Buffer[] = [];
  for (let i = 0; i < all.length; i += size) chunks.push(Buffer.from(new Uint8Array(all.subarray(i, i + size)).buffer));
  return chunks;
}

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
};

/** Replay recorded lines (repeated to at least `minLines`) through the agent pipeline. */
export async function benchReplay(recorded: string[], minLines = 1_000_000): Promise<ReplayResult> {
  // Placed ahead of this machine's clock, the replay is released by its own
  // times, as a live agent that keeps up releases: the reorder buffer holds a
  // window's worth of events (what costs memory and collections), whatever
  // speed the replay runs at. A recording from the past would instead be
  // released whole at every tick, and its CPUs' runs would arrive late.
  const lines = replayLines(recorded, minLines, monotonicNs() + REPLAY_AHEAD_NS);

  // 1. parse only
  let n = 0;
  const parser = new LineParser({ onEvent: () => n++ });
  let cpu = process.cpuUsage();
  let t = performance.now();
  for (const l of lines) parser.parse(l);
  const parsePerSec = rate(n, performance.now() - t);
  const parsePerCpuSec = rate(n, cpuMs(cpu));

  // 2. parse + order + attribute (the agent without bpftrace). Only a sample of
  // the events is kept, for stage 3: keeping millions alive would make this
  // stage's collections (and none of a live agent's) slow.
  const released: ConnEventInit[] = [];
  let releasedCount = 0;
  const agent = new Agent({
    node: "bench",
    sink: (evs) => {
      releasedCount += evs.length;
      // Copies: the agent reuses the objects (sub-objects are never changed, so a shallow copy holds).
      for (let i = 0; i < evs.length && released.length < ENCODE_SAMPLE; i++) released.push({ ...evs[i]! });
    },
    reuseEvents: true,
    reorderWindowMs: 100,
  });
  cpu = process.cpuUsage();
  t = performance.now();
  for (let i = 0; i < lines.length; i++) {
    agent.feed(lines[i] as string);
    if ((i & 1023) === 0) agent.tick();
  }
  await agent.stop();
  const agentPerSec = rate(releasedCount, performance.now() - t);
  const agentPerCpuSec = rate(releasedCount, cpuMs(cpu));

  // 3. encode only (1000-event batches, as the publisher cuts them), the sample a few times over
  cpu = process.cpuUsage();
  t = performance.now();
  let encoded = 0;
  for (let round = 0; round < ENCODE_ROUNDS; round++) {
    for (let i = 0; i < released.length; i += 1000) {
      const batch = released.slice(i, i + 1000);
      encodeBatch({ node: "bench", bootId: "b", agentStartUs: 1 }, batch);
      encoded += batch.length;
    }
  }
  const encodePerSec = rate(encoded, performance.now() - t);
  const encodePerCpuSec = rate(encoded, cpuMs(cpu));
  // Each end-to-end run starts from a clean heap: a million events kept from the
  // stages above would make every collection of the runs below slower.
  released.length = 0;
  const collect = (): void => (globalThis as { gc?: () => void }).gc?.();
  collect();

  // 4. end to end: parse → agent → EventPublisher → JetStream (acked)
  const dir = mkdtempSync(join(tmpdir(), "tcptrail-bench-"));
  const nats = await startEmbeddedNats({ stateDir: dir });
  try {
    const nc = await connectNats(nats.url);
    await ensureStreams(await jetstreamManager(nc));
    const pub = new EventPublisher({ js: jetstream(nc), node: "bench", bootId: "b", agentStartUs: Date.now() * 1000, maxQueuedEvents: 2_000_000, maxInFlight: 8 });
    const agent2 = new Agent({ node: "bench", sink: (evs) => pub.push(evs), reuseEvents: true, reorderWindowMs: 100 });
    cpu = process.cpuUsage();
    t = performance.now();
    for (let i = 0; i < lines.length; i++) {
      agent2.feed(lines[i] as string);
      if ((i & 1023) === 0) {
        agent2.tick();
        // let acks come back so the queue does not grow without bound
        if ((i & 65535) === 0) await new Promise((r) => setImmediate(r));
      }
    }
    await agent2.stop();
    await pub.flush();
    const endToEndPerSec = rate(releasedCount, performance.now() - t);
    const endToEndPerCpuSec = rate(releasedCount, cpuMs(cpu));
    const s = await pub.close();

    // 5. end to end with the worker pipeline (what the agent service runs): this
    // thread hands raw stdout chunks over and publishes the encoded batches the
    // worker posts back; the worker splits, parses, orders, attributes, encodes.
    const chunks = asChunks(lines);
    // The million line strings are not needed past here: left alive, every
    // collection of the main thread would mark them, which no agent pays.
    const lineCount = lines.length;
    lines.length = 0;
    collect();
    const pub3 = new EventPublisher({ js: jetstream(nc), node: "bench-worker", bootId: "b", agentStartUs: Date.now() * 1000, maxQueuedEvents: 2_000_000, maxInFlight: 8 });
    const agent3 = new Agent({
      node: "bench-worker",
      reorderWindowMs: 100,
      pipeline: workerPipeline({ batching: pub3.batching, onBatch: (b) => pub3.pushBatch(b) }),
    });
    // Let the worker load before the clock starts: startup is not throughput.
    agent3.feed("Attaching 1 probe...");
    agent3.startClock();
    for (let i = 0; i < 200 && agent3.stats().linesRead === 0; i++) await new Promise((r) => setTimeout(r, 25));
    cpu = process.cpuUsage();
    t = performance.now();
    for (const chunk of chunks) agent3.feedChunk(chunk);
    await agent3.stop();
    await pub3.flush();
    const workerEndToEndPerSec = rate(agent3.stats().eventsReleased, performance.now() - t);
    const workerEndToEndPerCpuSec = rate(agent3.stats().eventsReleased, cpuMs(cpu));
    const s3 = await pub3.close();
    await nc.close();
    return {
      lines: lineCount,
      parsePerSec,
      agentPerSec,
      encodePerSec,
      parsePerCpuSec,
      agentPerCpuSec,
      encodePerCpuSec,
      endToEndPerSec,
      workerEndToEndPerSec,
      endToEndPerCpuSec,
      workerEndToEndPerCpuSec,
      published: s.published,
      workerPublished: s3.published,
      malformed: parser.malformed,
    };
  } finally {
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ChurnResult {
  untraced: number[];
  /** bpftrace running tcptrail.bt with its output thrown away: the kernel and bpftrace's share. */
  bpftraceOnly: number[];
  traced: number[];
  ratio: number;
  bpftraceOnlyRatio: number;
  kernelLost: number;
  eventsRead: number;
  queueDropped: number;
}

/** Loopback churn, alternating untraced and traced runs, to compare side by side. */
export async function benchChurn(bin: string, seconds = 3, rounds = 2): Promise<ChurnResult> {
  const dir = mkdtempSync(join(tmpdir(), "tcptrail-bench-"));
  const nats = await startEmbeddedNats({ stateDir: dir });
  const untraced: number[] = [];
  const bpftraceOnly: number[] = [];
  const traced: number[] = [];
  const bpftrace = await benchBpftrace();
  let kernelLost = 0;
  let eventsRead = 0;
  let queueDropped = 0;
  try {
    for (let r = 0; r < rounds; r++) {
      untraced.push(await churn(bin, seconds, 2));
      const bare = execa(bpftrace.path, [defaultProgramPath()], { env: bpftrace.env, stderr: "ignore", reject: false, buffer: false });
      // Attaching takes 2-10 s depending on the version: measure only once BEGIN
      // has run, then read and drop the output (the reader's cost is bpftrace's).
      await new Promise<void>((res) => {
        const onData = (d: Buffer) => {
          if (!/(^|\n)B \d/.test(d.toString("latin1"))) return;
          bare.stdout?.off("data", onData);
          bare.stdout?.resume();
          res();
        };
        bare.stdout?.on("data", onData);
        void bare.finally(() => res());
      });
      bpftraceOnly.push(await churn(bin, seconds, 2));
      bare.kill("SIGINT");
      await bare;
      const svc = await startAgentService({ natsUrl: nats.url, node: "bench", logger: silentLogger, publisher: { maxQueuedEvents: 1_000_000 } });
      traced.push(await churn(bin, seconds, 2));
      await new Promise((res) => setTimeout(res, 500));
      const s = svc.stats();
      await svc.stop();
      kernelLost += s.agent.kernelLost;
      eventsRead += s.agent.eventsRead;
      queueDropped += s.publisher.dropped;
    }
  } finally {
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  return {
    untraced,
    bpftraceOnly,
    traced,
    ratio: mean(traced) / mean(untraced),
    bpftraceOnlyRatio: mean(bpftraceOnly) / mean(untraced),
    kernelLost,
    eventsRead,
    queueDropped,
  };
}

/** Keep a recording around for the next run (and for people who want to look at it). */
export function saveRecording(lines: string[], path: string): void {
  writeFileSync(path, lines.join("\n") + "\n");
}

export function loadRecording(path: string): string[] {
  return readFileSync(path, "utf8").split("\n").filter((l) => l.length > 0);
}

export type { ParsedEvent };

export interface LatencyResult {
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/**
 * How long a connection takes to show up for a subscriber (what `tcptrail
 * observe -f` sees): connect() on loopback → its SYSCALL_CONNECT event decoded
 * from JetStream, through bpftrace, the agent's reorder window and batching.
 */
export async function benchEventLatency(samples = 50): Promise<LatencyResult> {
  const { createServer, connect } = await import("node:net");
  const { subscribeEvents } = await import("../src/transport/mod.js");
  const dir = mkdtempSync(join(tmpdir(), "tcptrail-bench-"));
  const nats = await startEmbeddedNats({ stateDir: dir });
  const server = createServer((s) => s.end());
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as { port: number }).port;
  const svc = await startAgentService({ natsUrl: nats.url, node: "latency", logger: silentLogger });
  const nc = await connectNats(nats.url);
  const sub = await subscribeEvents(nc, { node: "latency", follow: true });
  const seenAt = new Map<number, number>();
  void (async () => {
    for await (const { batch } of sub) {
      const now = performance.now();
      for (const e of batch.events) {
        if (e.kind === 5 /* SYSCALL_CONNECT */ && e.target?.port === port && e.local?.port) seenAt.set(e.local.port, now);
      }
    }
  })();
  const lat: number[] = [];
  try {
    await new Promise((r) => setTimeout(r, 500));
    for (let i = 0; i < samples; i++) {
      const t0 = performance.now();
      const localPort = await new Promise<number>((resolve, reject) => {
        const c = connect(port, "127.0.0.1", () => {
          const lp = c.localPort ?? 0;
          c.end();
          resolve(lp);
        });
        c.on("error", reject);
      });
      const deadline = Date.now() + 5000;
      while (!seenAt.has(localPort) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      if (seenAt.has(localPort)) lat.push((seenAt.get(localPort) as number) - t0);
      await new Promise((r) => setTimeout(r, 20));
    }
  } finally {
    await sub.close();
    await nc.close();
    await svc.stop();
    server.close();
    await nats.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? NaN;
  return { samples: lat.length, p50Ms: q(0.5), p99Ms: q(0.99), maxMs: lat.at(-1) ?? NaN };
}
