// The main job's consumer worker thread: the consumer side (store, live hub,
// trace consumer, retention, query API) on an event loop of its own, so a
// big SQLite delete or a burst of stitching never starves the main thread
// that reads bpftrace, publishes to NATS and answers /metrics. Started by
// consumer-thread.ts with ConsumerWorkerData.
import { parentPort, workerData } from "node:worker_threads";
import { createLogger } from "../log/logger.js";
import { Registry } from "prom-client";
import { startConsumerSide, type ConsumerSide } from "./consumer-side.js";
import { errorData, isToConsumerWorker, type ConsumerWorkerData, type FromConsumerWorker } from "./consumer-protocol.js";

const port = parentPort;
if (!port) throw new Error("consumer-worker runs as a worker thread only");
const data = workerData as ConsumerWorkerData;
const post = (m: FromConsumerWorker) => port.postMessage(m);

const logger = createLogger({ level: data.logLevel, name: data.logName ?? "tcptrail" }).child({ thread: "consumer" });
// The worker's own registry with the consumer's families only: the main
// thread's /metrics appends its text, so a family registered here too (the
// agent's counters, the process defaults) would appear twice, the worker's
// idle copy last.
const metrics = { registry: new Registry() };

let side: ConsumerSide | undefined;
let stopping = false;

port.on("message", (m: unknown) => {
  if (!isToConsumerWorker(m)) return;
  switch (m.type) {
    case "metrics":
      void metrics.registry.metrics().then(
        (text) => post({ type: "metrics", id: m.id, text }),
        (err: unknown) => logger.warn({ err }, "could not render consumer metrics"),
      );
      break;
    case "block": {
      const until = Date.now() + m.ms;
      while (Date.now() < until) {
        // busy on purpose: the test's stand-in for a long synchronous store operation
      }
      break;
    }
    case "crash":
      setImmediate(() => {
        throw new Error(m.message);
      });
      break;
    case "stop":
      if (stopping) break;
      stopping = true;
      void (side?.stop() ?? Promise.resolve()).finally(() => {
        post({ type: "stopped" });
        logger.flush();
        // Nothing else keeps the thread alive once the port closes.
        port.close();
      });
      break;
  }
});

startConsumerSide(data.settings, logger, metrics).then(
  (started) => {
    side = started;
    post({ type: "ready", endpoints: started.endpoints });
  },
  (err: unknown) => {
    post({ type: "failed", error: errorData(err) });
    port.close();
  },
);
