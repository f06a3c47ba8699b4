// Long-running services the CLI starts: the node agent service and the main
// job that composes it with NATS, the trace consumer (src/consumer), the
// store and the API.
export { DEFAULT_HEARTBEAT_MS, HeartbeatSender, type HeartbeatSenderOptions, type PublishedProgress } from "./agent-heartbeat.js";
export { ownSockets, startAgentService, type AgentService, type AgentServiceOptions, type AgentServiceSettings } from "./agent-service.js";
export { DEFAULT_CONSUMER_THREAD, startMainJob, type ConsumerThreadMode, type MainJob, type MainJobOptions } from "./main-job.js";
export {
  ConsumerThread,
  DEFAULT_CONSUMER_METRICS_TIMEOUT_MS,
  DEFAULT_CONSUMER_STOP_TIMEOUT_MS,
  type ConsumerThreadOptions,
} from "./consumer-thread.js";
export { ConsumerWorkerError, isConsumerWorkerError } from "./errors.js";
export {
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_WORKER_YOUNG_GENERATION_MB,
  WorkerPipeline,
  workerPipeline,
  type WorkerPipelineOptions,
} from "./worker-pipeline.js";
export { onShutdown } from "./shutdown.js";
export {
  AgentPublishing,
  DEFAULT_HIGH_WATER_SAVE_MS,
  DEFAULT_PUBLISH_CLOSE_TIMEOUT_MS,
  type AgentPublishingOptions,
  type PublishingAgent,
  type PublishingStopResult,
} from "./agent-publishing.js";
export { CRASH_SEQ_MARGIN, publishUnpublishedGaps, unpublishedGap } from "./unpublished-gap.js";
export { UnpublishedLedger, isHighWaterRecord, type HighWaterRecord } from "./unpublished-ledger.js";
