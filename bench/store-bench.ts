// The compact store at scale (issue 9): N stored connections of one kind of
// traffic, what they cost on disk and in the JetStream events stream, how
// fast they go in, how fast the queries users run come back, and how many
// hours the default size limit then holds at 1,000 conns/s.
//
// The traces are real: a few thousand generated connections, or connections
// replaying the lab's recordings (lab-traffic.ts), stitched by the real
// Stitcher (traffic-template.ts), copied N times with new times, ports,
// sockets and ids (trace-clone.ts), written through the TraceStore contract
// with nothing in the store turned off. Only the contract is used, plus the
// SQLite store's seal() when it has one (it moves the hot rows into blocks,
// as its own schedule would have by the end of a real day).
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TraceInit } from "../src/model/mod.js";
import { DEFAULT_MAX_AGE_MS, DEFAULT_MAX_BYTES, SqliteTraceStore, type KindStats, type TraceStore } from "../src/store/mod.js";
import { DEFAULT_EVENTS_MAX_AGE_MS, DEFAULT_EVENTS_MAX_BYTES } from "../src/store/sqlite/options.js";
import { FAILURE_OUTCOMES } from "../src/trace/mod.js";
import { mulberry32 } from "./mulberry32.js";
import { DEFAULT_QUERY_RUNS } from "./store-options.js";
import { streamBytes, type StreamBytes } from "./stream-bytes.js";
import { DEFAULT_CLONE_RATE, TraceCloner } from "./trace-clone.js";
import type { TrafficKind } from "./traffic-events.js";
import { buildTemplate, DEFAULT_TEMPLATE_CONNECTIONS } from "./traffic-template.js";

/** putTraces batch: what the consumer's trace writer hands the store at a time. */
export const DEFAULT_TRACE_BATCH = 200;
/**
 * Connections whose raw events are stored too (the newest ones). Enough
 * batches for a steady bytes-per-event and for timelines that find their
 * events; a full ring at 1,000 conns/s (15 min, 900k connections) costs
 * minutes more and measures the same bytes per connection.
 */
export const DEFAULT_EVENT_CONNECTIONS = 100_000;
/** The failures a user lists first (the stitcher's own list). */
export { FAILURE_OUTCOMES };
const HOUR_US = 3600e6;

export interface StoreBenchOptions {
  traffic: TrafficKind;
  /** Connections stored. */
  connections: number;
  /** Default DEFAULT_TEMPLATE_CONNECTIONS (fewer when `connections` is smaller). */
  templateConnections?: number;
  /** Default DEFAULT_TRACE_BATCH. */
  traceBatch?: number;
  /** Connections whose raw events are stored too, rounded up to whole template copies. Default min(connections, DEFAULT_EVENT_CONNECTIONS). */
  eventConnections?: number;
  /** Runs of each query. Default DEFAULT_QUERY_RUNS. */
  queryRuns?: number;
  /** Connections/s the traffic arrives at (times, batch sizes, horizon). Default DEFAULT_CLONE_RATE (1,000). */
  ratePerSec?: number;
  /** Where the database goes (and stays). Default: a fresh temp dir, removed afterwards. */
  dir?: string;
  /** Hears what the bench is doing (a 100M run takes long). */
  progress?: (step: string) => void;
  /** Seed of the random query targets. */
  seed?: number;
  /** Opens the store at a path (twice: to fill it, and again after the final checkpoint). Default: a SqliteTraceStore. */
  open?: (path: string) => TraceStore;
}

export interface Rate {
  items: number;
  seconds: number;
  /** CPU time of this process (all threads) during the same calls. */
  cpuSeconds: number;
  perSec: number;
  perCpuSec: number;
}

export interface Latency {
  runs: number;
  /** The first run, on a freshly opened store (cold caches). */
  firstMs: number;
  p50Ms: number;
  /** With 20 runs, the slowest. */
  p99Ms: number;
  /** Items the queries found, in total (a query that finds nothing measures only a scan). */
  found: number;
}

export interface StoreBenchResult {
  traffic: TrafficKind;
  connections: number;
  eventConnections: number;
  templateConnections: number;
  ratePerSec: number;
  /** Traces per putTraces call. */
  traceBatch: number;
  traceInserts: Rate;
  eventInserts: Rate;
  /** After the final seal and a checkpoint (the store closed), the database file and its WAL. */
  fileBytes: number;
  kinds: { traces: KindStats; events: KindStats };
  /** fileBytes / connections (raw events only for the newest eventConnections). */
  fileBytesPerConnection: number;
  traceBytesPerConnection: number;
  /** Raw-event bytes per connection whose events were stored. */
  eventBytesPerConnection: number;
  stream: StreamBytes;
  queries: { list: Latency; listPod: Latency; listOutcome: Latency; getTrace: Latency; timeline: Latency; putToQueryable: Latency };
  horizon: HorizonEstimate;
  /** Wall time of writing the store, generating the connections included. */
  fillSeconds: number;
  /** Wall time of the whole run. */
  totalSeconds: number;
}

export interface HorizonEstimate {
  ratePerSec: number;
  maxBytes: number;
  /** maxBytes / (trace bytes per connection × rate), hours. */
  hours: number;
  maxAgeHours: number;
  /** How long the raw-event ring's size limit lasts at this rate, minutes, vs its age limit. */
  eventsMinutes: number;
  eventsMaxAgeMinutes: number;
  /** Bytes per connection over a day at this rate: its trace plus its share of a full event ring. */
  dayBytesPerConnection: number;
}

/** How long the store's default limits hold traces (and raw events) at `ratePerSec`. */
export function horizon(traceBytesPerConn: number, eventBytesPerConn: number, ratePerSec: number): HorizonEstimate {
  const maxAgeHours = DEFAULT_MAX_AGE_MS / 3.6e6;
  const hours = DEFAULT_MAX_BYTES / (traceBytesPerConn * ratePerSec) / 3600;
  const eventsMinutes = DEFAULT_EVENTS_MAX_BYTES / (eventBytesPerConn * ratePerSec) / 60;
  const eventsMaxAgeMinutes = DEFAULT_EVENTS_MAX_AGE_MS / 60_000;
  // A day's traces share one ring of raw events: the ring holds whichever limit ends first.
  const ringConnections = Math.min(eventsMinutes, eventsMaxAgeMinutes) * 60 * ratePerSec;
  const dayConnections = Math.min(hours, maxAgeHours) * 3600 * ratePerSec;
  return {
    ratePerSec,
    maxBytes: DEFAULT_MAX_BYTES,
    hours,
    maxAgeHours,
    eventsMinutes,
    eventsMaxAgeMinutes,
    dayBytesPerConnection: traceBytesPerConn + (eventBytesPerConn * ringConnections) / dayConnections,
  };
}

/** A store that can be told to seal its hot rows now (SqliteTraceStore since store v3). */
interface Sealable {
  seal(): unknown;
}

function isSealable(store: TraceStore): store is TraceStore & Sealable {
  return typeof (store as Partial<Sealable>).seal === "function";
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}


const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? 0;

class RateMeter {
  items = 0;
  #ns = 0n;
  #cpuUs = 0;
  async time<T>(items: number, f: () => Promise<T>): Promise<T> {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    const r = await f();
    const c = process.cpuUsage(c0);
    this.#ns += process.hrtime.bigint() - t0;
    this.#cpuUs += c.user + c.system;
    this.items += items;
    return r;
  }
  result(): Rate {
    const seconds = Number(this.#ns) / 1e9;
    const cpuSeconds = this.#cpuUs / 1e6;
    return {
      items: this.items,
      seconds,
      cpuSeconds,
      perSec: seconds > 0 ? Math.round(this.items / seconds) : 0,
      perCpuSec: cpuSeconds > 0 ? Math.round(this.items / cpuSeconds) : 0,
    };
  }
}

/** Run `query` `runs` times; it returns how many items it found. */
async function latency(runs: number, query: (run: number) => Promise<number>): Promise<Latency> {
  const ms: number[] = [];
  let found = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    found += await query(r);
    ms.push(performance.now() - t0);
  }
  const firstMs = ms[0] ?? 0;
  ms.sort((a, b) => a - b);
  return { runs, firstMs, p50Ms: percentile(ms, 50), p99Ms: percentile(ms, 99), found };
}

/** Write N connections (and the newest ones' raw events) through the contract. */
/**
 * Which copies of the template also get their raw events stored: the newest
 * whole copies (a partial last copy's events would name connections that were
 * never stored), at least `wanted` connections' worth when there are.
 */
export function eventCopies(connections: number, templateSize: number, wanted: number): { first: number; end: number } {
  const whole = Math.floor(connections / templateSize);
  return { first: Math.max(0, whole - Math.ceil(wanted / templateSize)), end: whole };
}

async function fill(store: TraceStore, cloner: TraceCloner, o: { connections: number; events: { first: number; end: number }; traceBatch: number; batchEvents: number; progress: (s: string) => void }) {
  const T = cloner.size;
  const traces = new RateMeter();
  const events = new RateMeter();
  const copies = Math.ceil(o.connections / T);
  const report = Math.max(1, Math.floor(copies / 10));
  let batch: TraceInit[] = [];
  const started = performance.now();
  for (let k = 0; k < copies; k++) {
    const end = Math.min(o.connections, (k + 1) * T);
    for (let n = k * T; n < end; n++) {
      batch.push(cloner.trace(n));
      if (batch.length === o.traceBatch) {
        const b = batch;
        await traces.time(b.length, () => store.putTraces(b));
        batch = [];
      }
    }
    if (k >= o.events.first && k < o.events.end) {
      // Raw events go in as the consumer puts them: one call per received batch, per node.
      for (let node = 0; node < cloner.template.nodes.length; node++) {
        const all = cloner.events(k, node);
        const source = { node: cloner.template.nodes[node]!.node, bootId: "bench", agentStartUs: cloner.firstUs };
        for (let from = 0; from < all.length; from += o.batchEvents) {
          const b = all.slice(from, from + o.batchEvents);
          await events.time(b.length, () => store.putEvents(source, b));
        }
      }
    }
    if ((k + 1) % report === 0 || k === copies - 1) {
      const s = (performance.now() - started) / 1000;
      o.progress(`${end.toLocaleString("en-US")} of ${o.connections.toLocaleString("en-US")} connections stored, ${s.toFixed(0)} s`);
    }
  }
  if (batch.length > 0) {
    const b = batch;
    await traces.time(b.length, () => store.putTraces(b));
  }
  return { traces: traces.result(), events: events.result(), seconds: (performance.now() - started) / 1000 };
}

export async function benchStore(opts: StoreBenchOptions): Promise<StoreBenchResult> {
  const t0 = performance.now();
  const N = opts.connections;
  const progress = opts.progress ?? (() => undefined);
  const ratePerSec = opts.ratePerSec ?? DEFAULT_CLONE_RATE;
  const templateConnections = Math.min(N, opts.templateConnections ?? DEFAULT_TEMPLATE_CONNECTIONS);
  const withEvents = eventCopies(N, templateConnections, Math.min(N, opts.eventConnections ?? DEFAULT_EVENT_CONNECTIONS));
  const eventConnections = (withEvents.end - withEvents.first) * templateConnections;
  const runs = opts.queryRuns ?? DEFAULT_QUERY_RUNS;
  const traceBatch = opts.traceBatch ?? DEFAULT_TRACE_BATCH;
  const template = buildTemplate(opts.traffic, { connections: templateConnections, ratePerSec });
  // "Now" is where the newest connection starts: every query's "last hour" is relative to it.
  const nowUs = Date.now() * 1000;
  const cloner = new TraceCloner(template, { count: N, ratePerSec, endUs: nowUs });
  const stream = streamBytes(cloner);

  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "tcptrail-store-bench-"));
  const path = join(dir, `store-${opts.traffic}-${N}.db`);
  const open = opts.open ?? ((p: string) => new SqliteTraceStore({ path: p }));
  let store: TraceStore = open(path);
  try {
    const inserted = await fill(store, cloner, {
      connections: N,
      events: withEvents,
      traceBatch,
      batchEvents: stream.batchEvents,
      progress,
    });
    progress("sealing and checkpointing");
    if (isSealable(store)) await store.seal();
    // Closing the last connection checkpoints the WAL into the file and removes it.
    await store.close();
    const fileBytes = fileSize(path) + fileSize(`${path}-wal`);
    store = open(path);
    const { kinds } = await store.stats();

    progress("querying");
    const rnd = mulberry32(opts.seed ?? 9);
    const pick = (from: number, to: number) => from + Math.floor(rnd() * (to - from));
    const pods = [...new Set(template.traces.flatMap((t) => t.hops.flatMap((h) => [h.client?.pod ?? "", h.server?.pod ?? ""])))].filter((p) => p !== "");
    const since = nowUs - HOUR_US;
    const list = await latency(runs, async () => (await store.listTraces({ since })).traces.length);
    const listPod = await latency(runs, async () => (await store.listTraces({ since, pod: pods[pick(0, pods.length)]! })).traces.length);
    const listOutcome = await latency(runs, async () => (await store.listTraces({ since, outcome: [...FAILURE_OUTCOMES] })).traces.length);
    const getTrace = await latency(runs, async () => {
      const id = cloner.traceId(pick(0, N));
      const t = await store.getTrace(id);
      if (t?.traceId !== id) throw new Error(`store bench: stored trace ${id} not found by getTrace`);
      return 1;
    });
    // Timelines of connections whose raw events are still in the ring, as a user asks about a recent one.
    const withEventsFrom = withEvents.first * templateConnections;
    const timeline = await latency(runs, async () => (await store.timeline({ traceId: cloner.traceId(pick(withEventsFrom, withEventsFrom + eventConnections)) })).events.length);

    // The store's part of close → queryable, on the full store: one more
    // trace put, then found by its client address (as `tcptrail traces --ip`).
    // Last, so the counts above are of exactly N connections.
    const putToQueryable = await latency(runs, async (r) => {
      const t = cloner.trace(N + r);
      const client = t.hops![0]!.client!;
      await store.putTraces([t]);
      const page = await store.listTraces({ ip: client.ip!, port: client.port!, since: (t.startUs as number) - 1, limit: 5 });
      if (!page.traces.some((x) => x.traceId === t.traceId)) throw new Error(`store bench: trace ${t.traceId} not queryable after putTraces`);
      return 1;
    });

    const traceBytesPerConnection = kinds.traces.bytes / N;
    const eventBytesPerConnection = eventConnections > 0 ? kinds.events.bytes / eventConnections : 0;
    return {
      traffic: opts.traffic,
      connections: N,
      eventConnections,
      templateConnections,
      ratePerSec,
      traceBatch,
      traceInserts: inserted.traces,
      eventInserts: inserted.events,
      fileBytes,
      kinds,
      fileBytesPerConnection: fileBytes / N,
      traceBytesPerConnection,
      eventBytesPerConnection,
      stream,
      queries: { list, listPod, listOutcome, getTrace, timeline, putToQueryable },
      horizon: horizon(traceBytesPerConnection, eventBytesPerConnection, ratePerSec),
      fillSeconds: inserted.seconds,
      totalSeconds: (performance.now() - t0) / 1000,
    };
  } finally {
    await store.close();
    if (!opts.dir) rmSync(dir, { recursive: true, force: true });
  }
}
