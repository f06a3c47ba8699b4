// NATS JetStream transport: subjects, streams, publishing and reading event batches.
export {
  ALERTS_WILDCARD,
  EVENTS_WILDCARD,
  HEARTBEATS_WILDCARD,
  SUBJECT_PREFIX,
  TRACES_WILDCARD,
  alertsSubject,
  eventsSubject,
  heartbeatsSubject,
  subjectToken,
  tracesSubject,
} from "./subjects.js";
export {
  ALERTS_STREAM,
  DEFAULT_STREAM_LIMITS,
  EVENTS_STREAM,
  TRACES_STREAM,
  ensureStreams,
  resolveStreamLimits,
  type StreamKey,
  type StreamLimits,
  type StreamLimitsOverrides,
} from "./streams.js";
export {
  DEFAULT_EVENTS_HORIZON_MS,
  DEFAULT_EVENTS_RATE,
  EVENTS_STREAM_MARGIN,
  EVENT_STREAM_BYTES,
  MESSAGE_STREAM_BYTES,
  MIN_EVENTS_STREAM_BYTES,
  eventsStreamLimits,
  streamBytesPerEvent,
  type EventsHorizon,
} from "./events-stream-size.js";
export { batchMsgId, decodeBatch, encodeBatch, type BatchOrigin, type DecodedBatch } from "./batch-codec.js";
export { decodeHeartbeat, encodeHeartbeat, type AgentHeartbeat } from "./heartbeat-codec.js";
export { BatchCutter, type BatchCutterOptions, type EncodedBatch } from "./batch-cutter.js";
export {
  DEFAULT_MAX_BATCH_DELAY_MS,
  DEFAULT_MAX_BATCH_EVENTS,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_QUEUED_EVENTS,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  DEFAULT_RETRY_INITIAL_MS,
  DEFAULT_RETRY_MAX_MS,
  EventPublisher,
  type DropCallback,
  type EventPublisherOptions,
  type PublisherStats,
} from "./event-publisher.js";
export {
  subscribeEvents,
  type EventSubscription,
  type ReceivedBatch,
  type SubscribeEventsOptions,
  type SubscriberStats,
} from "./event-subscriber.js";
export {
  DEFAULT_PULL_EXPIRES_MS,
  createDurableEventConsumer,
  type DeliveredBatch,
  type DurableEventConsumer,
  type DurableEventConsumerOptions,
} from "./durable-consumer.js";
export { freePort, startEmbeddedNats, type EmbeddedNats, type EmbeddedNatsOptions } from "./embedded-nats.js";
export { DEFAULT_NATS_URL, connectNats, natsServers, type ConnectNatsOptions } from "./connect.js";
export {
  NATS_AUTH_FLAGS,
  hasNatsAuth,
  natsAuthConnectOptions,
  type NatsAuthConnectOptions,
  type NatsAuthOptions,
  type NatsTlsOptions,
} from "./auth/nats-auth.js";
export { AUTH_CONFIG_FILE, READER_SEED_FILE, authConfigText, type EmbeddedNatsAuth } from "./embedded/auth-config.js";
export {
  DEFAULT_DURABLE_NAME,
  NATS_ROLES,
  ROLE_INBOX_PREFIX,
  rolePermissions,
  type NatsRole,
  type RolePermissionsOptions,
  type SubjectPermissions,
} from "./embedded/role-permissions.js";
export {
  MalformedMessageError,
  NatsAuthError,
  NatsServerMissingError,
  NatsServerStartError,
  NatsUnreachableError,
  PublisherClosedError,
  StreamStorageError,
  isMalformedMessageError,
  isNatsAuthError,
  isNatsServerMissingError,
  isNatsServerStartError,
  isNatsUnreachableError,
  isPublisherClosedError,
  isStreamStorageError,
  type NatsServerMissingOptions,
  type NatsServerStartOptions,
  type NatsUnreachableOptions,
  type StreamStorageOptions,
} from "./errors.js";
export type { NatsConnection, Subscription } from "@nats-io/nats-core";
export { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from "@nats-io/jetstream";
