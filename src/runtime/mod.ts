// Long-running services the CLI starts: the node agent, the trace consumer,
// and the main job that composes them with NATS, the store and the API.
export { startAgentService, type AgentService, type AgentServiceOptions } from "./agent-service.js";
export {
  DEFAULT_ALERT_FLUSH_MS,
  DEFAULT_CHECKPOINT_MS,
  DEFAULT_CONSUMER_TICK_MS,
  DEFAULT_STORE_RETRY_MS,
  DEFAULT_TRACE_FLUSH_MS,
  startConsumerService,
  type ConsumerService, type ConsumerServiceOptions, type ConsumerStats } from "./consumer-service.js";
export { startMainJob, type MainJob, type MainJobOptions } from "./main-job.js";
export { onShutdown } from "./shutdown.js";
export { ConsumerOptionsError, isConsumerError, isConsumerOptionsError } from "./consumer-errors.js";
