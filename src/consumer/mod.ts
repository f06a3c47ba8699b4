// The trace consumer: a durable JetStream consumer of the events stream that
// checks each batch, stores it, stitches traces, and hands finished traces to
// the store, the live API hub and the alert engine. Restart-safe: events are
// stored before the ack, and a restart replays what the checkpoint has not
// seen without re-writing or re-alerting a trace.
export {
  DEFAULT_ALERT_FLUSH_MS,
  DEFAULT_CHECKPOINT_MS,
  DEFAULT_CONSUMER_TICK_MS,
  DEFAULT_STORE_RETRY_MS,
  DEFAULT_TRACE_FLUSH_MS,
  startConsumerService,
  type ConsumerService,
  type ConsumerServiceOptions,
  type ConsumerStats,
} from "./service.js";
export { ConsumerOptionsError, isConsumerOptionsError } from "./errors.js";
export {
  STORE_FAULT_KINDS,
  StoreHealth,
  storeFaultKind,
  type StoreFaultKind,
  type StoreHealthChange,
  type StoreHealthListener,
  type StoreHealthOptions,
  type StoreHealthState,
  type StoreWrite,
} from "./store-health.js";
export { STORE_DEGRADED_RULE, STORE_RECOVERED_RULE, storeHealthAlert } from "./store-health-alert.js";
export { insaneReason, saneEvents, type SanityResult } from "./event-sanity.js";
