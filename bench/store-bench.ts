// Store write rates and the store's share of close-to-queryable latency:
// events/s and traces/s through SqliteTraceStore in realistic batches, and the
// time from putTraces() returning control to listTraces() finding the trace.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { EventKind, Outcome, ResetReason, Role, SidecarLeg, TcpState, type ConnEventInit, type TraceInit } from "../src/model/mod.js";
import { SqliteTraceStore } from "../src/store/mod.js";

export interface StoreBenchOptions {
  /** Events written, in batches of `eventBatch`. Default 200000 / 500. */
  events?: number;
  eventBatch?: number;
  /** Traces written, in batches of `traceBatch`. Default 20000 / 200. */
  traces?: number;
  traceBatch?: number;
  /** Single-trace put-then-query round trips timed. Default 500. */
  latencySamples?: number;
  /** Where the database goes. Default: a fresh temp dir, removed afterwards. */
  dir?: string;
}

export interface StoreBenchResult {
  eventsPerSec: number;
  tracesPerSec: number;
  /** The same rates per second of this process's CPU time: comparable across loaded and idle machines. */
  eventsPerCpuSec: number;
  tracesPerCpuSec: number;
  /** putTraces([t]) + listTraces({ip, port}) finding t, in µs. */
  closeToQueryableUs: { p50: number; p99: number; max: number };
  bytes: number;
}

const START_US = Date.now() * 1000;

function event(i: number): ConnEventInit {
  const port = 20000 + (i % 40000);
  return {
    seq: i + 1,
    kind: i % 9 === 8 ? EventKind.EVENT_KIND_SYSCALL_CLOSE : EventKind.EVENT_KIND_STATE_CHANGE,
    tsNs: 1_000_000_000_000n + BigInt(i) * 1000n,
    timeUs: START_US + i,
    sock: (0xffff888100000000 + (i >> 3) * 0x800).toString(16),
    netns: 4026532801,
    pod: `pod-${i % 50}`,
    family: 4,
    local: { ip: "10.88.0.2", port },
    remote: { ip: "10.88.0.3", port: 8080 },
    oldState: TcpState.TCP_STATE_ESTABLISHED,
    newState: TcpState.TCP_STATE_FIN_WAIT1,
    uid: 1000,
    owner: { pid: 812, tid: 812, comm: "node" },
    role: Role.ROLE_APP,
  };
}

function trace(i: number): TraceInit {
  const t = START_US + i * 10;
  const ep = (ip: string, port: number, pod: string, role: Role, n: number) => ({
    ip, port, pod, role, netns: 4026532801, pid: 600 + n, comm: role === Role.ROLE_APP ? "node" : "haproxy",
    uid: role === Role.ROLE_APP ? 0 : 1337, node: "n1", socketId: `n1/${(0xffff0000 + i * 8 + n).toString(16)}/${1e12 + i * 1000 + n}`,
    leg: role === Role.ROLE_SIDECAR ? SidecarLeg.SIDECAR_LEG_UPSTREAM : 0,
  });
  const port = 10000 + (i % 50000);
  return {
    traceId: `bench-${i}`,
    outcome: i % 10 === 0 ? Outcome.OUTCOME_RESET_BY_SERVER : Outcome.OUTCOME_COMPLETED,
    startUs: t,
    endUs: t + 5000,
    explanation: "app pod-b (pid 901) reset the connection",
    hops: [
      { index: 1, client: ep("10.88.0.2", port, "pod-a", Role.ROLE_APP, 1), server: ep("127.0.0.1", 15001, "pod-a", Role.ROLE_SIDECAR, 2), originalDestination: { ip: "10.88.0.3", port: 8080 }, openedBy: "client", firstFinBy: "server", outcome: Outcome.OUTCOME_COMPLETED, startUs: t, endUs: t + 5000 },
      { index: 2, client: ep("10.88.0.2", port + 1, "pod-a", Role.ROLE_SIDECAR, 3), server: ep("10.88.0.3", 15006, "pod-b", Role.ROLE_SIDECAR, 4), originalDestination: { ip: "10.88.0.3", port: 8080 }, openedBy: "client", firstFinBy: "server", outcome: Outcome.OUTCOME_COMPLETED, link: "proxy", startUs: t, endUs: t + 5000 },
      { index: 3, client: ep("127.0.0.6", port, "pod-b", Role.ROLE_SIDECAR, 5), server: ep("10.88.0.3", 8080, "pod-b", Role.ROLE_APP, 6), openedBy: "client", resetBy: "server", resetReason: ResetReason.RESET_REASON_TCP_ABORT_ON_CLOSE, outcome: Outcome.OUTCOME_RESET_BY_SERVER, link: "proxy", startUs: t, endUs: t + 5000 },
    ],
  };
}

const percentile = (sorted: number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
}

export async function benchStore(opts: StoreBenchOptions = {}): Promise<StoreBenchResult> {
  const nEvents = opts.events ?? 200_000;
  const eventBatch = opts.eventBatch ?? 500;
  const nTraces = opts.traces ?? 20_000;
  const traceBatch = opts.traceBatch ?? 200;
  const samples = opts.latencySamples ?? 500;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "tcptrail-store-bench-"));
  const store = new SqliteTraceStore({ path: join(dir, "bench.db") });
  try {
    // Build inputs first: only the store's work is timed.
    const batches: ConnEventInit[][] = [];
    for (let i = 0; i < nEvents; i += eventBatch) batches.push(Array.from({ length: Math.min(eventBatch, nEvents - i) }, (_, j) => event(i + j)));
    const source = { node: "n1", bootId: "bench", agentStartUs: START_US };
    let t = performance.now();
    let cpu = process.cpuUsage();
    for (const b of batches) await store.putEvents(source, b);
    const eventsPerSec = nEvents / ((performance.now() - t) / 1000);
    const eventsPerCpuSec = nEvents / cpuSeconds(cpu);

    const traceBatches: TraceInit[][] = [];
    for (let i = 0; i < nTraces; i += traceBatch) traceBatches.push(Array.from({ length: Math.min(traceBatch, nTraces - i) }, (_, j) => trace(i + j)));
    t = performance.now();
    cpu = process.cpuUsage();
    for (const b of traceBatches) await store.putTraces(b);
    const tracesPerSec = nTraces / ((performance.now() - t) / 1000);
    const tracesPerCpuSec = nTraces / cpuSeconds(cpu);

    const lat: number[] = [];
    for (let s = 0; s < samples; s++) {
      const tr = trace(nTraces + s);
      const client = tr.hops![0]!.client!;
      const t0 = performance.now();
      await store.putTraces([tr]);
      const page = await store.listTraces({ ip: client.ip!, port: client.port!, since: tr.startUs! - 1, limit: 5 });
      if (!page.traces.some((x) => x.traceId === tr.traceId)) throw new Error(`trace ${tr.traceId} not queryable after put`);
      lat.push((performance.now() - t0) * 1000);
    }
    lat.sort((a, b) => a - b);
    const bytes = (await store.stats()).bytes;
    return {
      eventsPerSec: Math.round(eventsPerSec),
      tracesPerSec: Math.round(tracesPerSec),
      eventsPerCpuSec: Math.round(eventsPerCpuSec),
      tracesPerCpuSec: Math.round(tracesPerCpuSec),
      closeToQueryableUs: { p50: Math.round(percentile(lat, 50)), p99: Math.round(percentile(lat, 99)), max: Math.round(lat[lat.length - 1] ?? 0) },
      bytes,
    };
  } finally {
    await store.close();
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  }
}
