// The agent's pipeline worker thread: raw bpftrace output in, encoded
// EventBatch messages out. An EventPipeline splits, parses, orders and
// attributes; a BatchCutter encodes what it releases; the main thread only
// publishes the bytes. Started by worker-pipeline.ts with PipelineWorkerData.
import { parentPort, workerData } from "node:worker_threads";
import { pino } from "pino";
import { EventPipeline, type PipelineStats, type ReleasedHorizon } from "../agent/mod.js";
import { createPodResolver } from "../agent/cri/mod.js";
import { BatchCutter, type EncodedBatch } from "../transport/mod.js";
import { isToWorker, transferable, type FromWorker, type PipelineWorkerData } from "./pipeline-protocol.js";

/** How often counters go to the main thread when they changed (and once a second when not). */
const PROGRESS_EVERY_MS = 20;
/**
 * The released horizon goes to the main thread when it moved this far (or
 * stopped being claimable): a heartbeat a second apart needs no finer step,
 * and an idle node posts 10 small messages a second, not 50.
 */
const HORIZON_STEP_NS = 100_000_000n;

const port = parentPort;
if (!port) throw new Error("pipeline-worker runs as a worker thread only");
const data = workerData as PipelineWorkerData;
const post = (m: FromWorker, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

// Logs travel to the main thread's logger as records, filtered at its level here.
const logger = pino({ level: data.logLevel, base: undefined, timestamp: false }, { write: (record: string) => post({ type: "log", record }) });

const cutter = new BatchCutter({
  ...data.batching,
  onBatch: (batch: EncodedBatch) => {
    const { view, buffer } = transferable(batch.bytes);
    post({ type: "batch", batch: { ...batch, bytes: view } }, [buffer]);
  },
});
// Built here, in the thread that resolves: its background resyncs (CRI calls) run on this thread's loop.
const pods = data.pods ? createPodResolver(data.pods, data.settings.node, logger) : undefined;
const pipeline = new EventPipeline({
  settings: data.settings,
  ...(pods ? { pods } : {}),
  sink: (events) => cutter.push(events),
  // The cutter encodes each event as it is pushed and keeps none.
  reuseEvents: true,
  logger,
  hooks: { onBegin: (tsNs) => post({ type: "begin", tsNs }) },
});

let consumedBytes = 0;
let posted = { consumedBytes: -1, linesRead: -1, eventsReleased: -1 };
let postedAt = 0;

function progress(force: boolean): void {
  const stats: PipelineStats = pipeline.stats();
  const now = Date.now();
  const same = posted.consumedBytes === consumedBytes && posted.linesRead === stats.linesRead && posted.eventsReleased === stats.eventsReleased;
  if (same && !force && now - postedAt < 1000) return;
  posted = { consumedBytes, linesRead: stats.linesRead, eventsReleased: stats.eventsReleased };
  postedAt = now;
  post({ type: "progress", stats, consumedBytes });
}

let postedHorizon: ReleasedHorizon | null = null;

function horizon(): void {
  const h = pipeline.horizon() ?? null;
  const moved = h === null ? postedHorizon !== null : postedHorizon === null || h.tsNs - postedHorizon.tsNs >= HORIZON_STEP_NS;
  if (!moved) return;
  postedHorizon = h;
  post({ type: "horizon", horizon: h });
}

const progressTimer = setInterval(() => {
  progress(false);
  horizon();
}, PROGRESS_EVERY_MS);
progressTimer.unref();

port.on("message", (m: unknown) => {
  if (!isToWorker(m)) return;
  switch (m.type) {
    case "chunk":
      pipeline.feedChunk(m.chunk);
      consumedBytes += m.chunk.byteLength;
      break;
    case "line":
      pipeline.feedLine(m.line);
      break;
    case "end":
      pipeline.endOfStream();
      break;
    case "crash":
      pipeline.noteCrash(m.reason);
      break;
    case "dropped":
      pipeline.reportDropped(m.count, m.firstTsNs, m.lastTsNs);
      break;
    case "startClock":
      pipeline.startClock();
      break;
    case "tick":
      pipeline.tick();
      break;
    case "stop": {
      clearInterval(progressTimer);
      pipeline.stopSync();
      pods?.close?.();
      cutter.flush();
      cutter.stop();
      post({ type: "stopped", stats: pipeline.stats(), consumedBytes });
      break;
    }
  }
});
