// The store under a real, long load (issue 9): `tcptrail run` as users start
// it, traced by its own probes, while the paced churn offers 1,000 conns/s
// for minutes. It notes the first trace the API shows, samples the store
// file's size all along, and at the end checks that first trace is still
// queryable and reads bytes per connection from the store's own stats().
// Needs root, bpftrace, nats-server and gcc, like the sweep.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { QueryClient } from "../src/query/client.js";
import { DEFAULT_MAX_BYTES, SqliteTraceStore, type StoreStats } from "../src/store/mod.js";
import { DEFAULT_EVENTS_MAX_BYTES } from "../src/store/sqlite/options.js";
import { freePort } from "../src/transport/mod.js";
import { benchBpftrace } from "./agent-bench.js";
import { runChurn, type ChurnRun } from "./paced-churn.js";
import { settle } from "./settle.js";
import type { SoakCliOptions } from "./store-options.js";
import { SWEEP_SERIES } from "./sweep-bench.js";
import { startTcptrail, type TcptrailExit, type TcptrailProcess } from "./tcptrail-process.js";

/** Node name `run` traces under, so its traces say they are the soak's. */
export const SOAK_NODE = "bench-soak";
/** File-size samples over a soak: enough for a curve, few enough to print. */
export const DEFAULT_SOAK_SAMPLES = 60;
/** How often the API is asked for the first trace until it shows one. */
const FIRST_TRACE_POLL_MS = 250;
/** The database `run` keeps under its state directory (src/runtime/consumer-side.ts). */
const DB_FILE = "tcptrail.db";

export interface SoakOptions extends SoakCliOptions {
  /** File-size samples over the soak. Default DEFAULT_SOAK_SAMPLES. */
  samples?: number;
}

export interface SizeSample {
  /** Seconds since the churn started. */
  atS: number;
  /** Database file and WAL. */
  bytes: number;
  /** Taken after `run` stopped (sealed and checkpointed on the way out). */
  afterStop?: boolean;
}

export interface SoakResult {
  options: SoakOptions;
  bpftrace: string;
  churn?: ChurnRun;
  /** The first trace the API listed, and how long after the churn started. */
  firstTrace?: { id: string; afterS: number };
  /** Whether getTrace still found it at the end (before `run` stopped). */
  firstStillQueryable?: boolean;
  /** False when the consumer was still storing at the settle timeout. */
  settled?: boolean;
  sizes: SizeSample[];
  maxBytes: number;
  /** What the defaults let the file hold: trace limit + raw-event limit (retention's own margin comes on top). */
  limitBytes: number;
  /** From the store after `run` stopped (it seals on close). */
  stats?: StoreStats;
  exit?: TcptrailExit;
  error?: string;
}

function fileBytes(path: string): number {
  let n = 0;
  for (const p of [path, `${path}-wal`]) {
    try {
      n += statSync(p).size;
    } catch {
      // Not there (yet): 0.
    }
  }
  return n;
}

/** Ask the API until it lists a trace; resolves undefined when `stop()` says the soak is over first. */
async function firstTrace(api: QueryClient, sinceUs: number, t0: number, done: () => boolean): Promise<{ id: string; afterS: number } | undefined> {
  while (!done()) {
    // A busy API answers late or not at all for a moment: that is not the end of the soak.
    const page = await api.listTraces({ since: sinceUs, limit: 1 }).catch(() => undefined);
    const id = page?.traces[0]?.trace_id;
    if (id) return { id, afterS: (performance.now() - t0) / 1000 };
    await new Promise((r) => setTimeout(r, FIRST_TRACE_POLL_MS));
  }
  return undefined;
}

/** Run the soak; `progress` hears which step starts. Never throws once `run` started: the error is in the result, with what was measured. */
export async function benchStoreSoak(churnBin: string, o: SoakOptions, progress: (step: string) => void = () => undefined): Promise<SoakResult> {
  const b = await benchBpftrace();
  const dir = mkdtempSync(join(tmpdir(), "tcptrail-soak-"));
  const db = join(dir, DB_FILE);
  const out: SoakResult = { options: o, bpftrace: `${b.path} (${b.version?.text ?? "unknown version"})`, sizes: [], maxBytes: 0,
    limitBytes: (o.tracesMaxSize ?? DEFAULT_MAX_BYTES) + (o.eventsMaxSize ?? DEFAULT_EVENTS_MAX_BYTES),
  };
  let proc: TcptrailProcess | undefined;
  try {
    const [natsPort, apiPort, metricsPort] = [await freePort(), await freePort(), await freePort()];
    progress("starting tcptrail run");
    const args = ["run", "--state-dir", dir, "--nats-port", natsPort, "--api-port", apiPort, "--metrics-port", metricsPort, "--node", SOAK_NODE, "--bpftrace", b.path];
    // Small limits make the soak cross them: the file must stay within limits + retention's stated margin.
    if (o.tracesMaxSize !== undefined) args.push("--traces-max-size", `${o.tracesMaxSize}B`);
    if (o.eventsMaxSize !== undefined) args.push("--events-max-size", `${o.eventsMaxSize}B`);
    proc = await startTcptrail(args.map(String), { metricsPort });
    const api = new QueryClient({ url: `http://127.0.0.1:${apiPort}` });

    const seconds = o.minutes * 60;
    progress(`churn at ${o.rate.toLocaleString("en-US")} conns/s for ${seconds} s`);
    const sinceUs = Date.now() * 1000;
    const t0 = performance.now();
    let churning = true;
    const churn = runChurn(churnBin, { rate: o.rate, seconds }).finally(() => (churning = false));
    const first = firstTrace(api, sinceUs, t0, () => !churning);
    const every = (seconds * 1000) / (o.samples ?? DEFAULT_SOAK_SAMPLES);
    const sampleSize = () => {
      const bytes = fileBytes(db);
      out.sizes.push({ atS: (performance.now() - t0) / 1000, bytes });
      out.maxBytes = Math.max(out.maxBytes, bytes);
    };
    const sampler = setInterval(sampleSize, Math.max(250, every));
    try {
      out.churn = await churn;
      out.firstTrace = await first;
      progress("waiting for the consumer to store the backlog");
      const drained = await settle(() => proc!.scrape(), { series: [SWEEP_SERIES.eventsRead, SWEEP_SERIES.consumed] });
      out.settled = drained.settled;
    } finally {
      clearInterval(sampler);
      sampleSize();
    }
    if (out.firstTrace) out.firstStillQueryable = (await api.getTrace(out.firstTrace.id)) !== null;
  } catch (e) {
    out.error = e instanceof Error ? e.message : String(e);
  } finally {
    if (proc) {
      progress("stopping tcptrail run");
      out.exit = await proc.stop();
      if (out.exit.killed || out.exit.exitCode !== 0) out.error ??= `tcptrail run did not stop cleanly on SIGINT; its log ends:\n${proc.output().trimEnd().split("\n").slice(-6).join("\n")}`;
      // After the stop: run sealed its hot traces on the way out, and nobody writes any more.
      out.sizes.push({ atS: out.sizes.at(-1)?.atS ?? 0, bytes: fileBytes(db), afterStop: true });
      out.maxBytes = Math.max(out.maxBytes, fileBytes(db));
      try {
        const store = new SqliteTraceStore({ path: db });
        try {
          out.stats = await store.stats();
        } finally {
          await store.close();
        }
      } catch (e) {
        out.error ??= `reading the store's stats: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}
