// Alerting on unexpected resets: rules (YAML), the engine that turns finished
// traces into de-duplicated, rate-limited alerts, and where alerts go (NATS,
// webhook) and are read back from.
export {
  AlertDecodeError,
  AlertRuleError,
  AlertSourceError,
  WebhookError,
  isAlertDecodeError,
  isAlertRuleError,
  isAlertSourceError,
  isWebhookError,
  type AlertRuleOptions,
  type WebhookErrorOptions,
} from "./errors.js";
export { parseDuration } from "./duration.js";
export {
  DEFAULT_DEDUPE_KEY,
  DEFAULT_DEDUPE_WINDOW_MS,
  DEFAULT_RATE_KEY,
  DEFAULT_RATE_LIMIT,
  KEY_FIELDS,
  MAX_RATE_COUNT,
  validateRuleSet,
  type AlertRule,
  type DedupeSpec,
  type KeyField,
  type RateLimitSpec,
  type RateSpec,
  type RuleMatch,
} from "./rule-schema.js";
export { defaultAlertRules, loadAlertRules, parseAlertRules } from "./rules.js";
export { traceFacts, type TraceFacts } from "./trace-facts.js";
export {
  AlertEngine,
  type AlertEngineOptions,
  type AlertEngineStats,
  type AlertRuleStats,
} from "./engine.js";
export { decodeAlert, encodeAlert } from "./codec.js";
export { alertToJson, formatAlertText, severityTone, type AlertJson, type AlertTextOptions } from "./format.js";
export type { AlertSink } from "./sink.js";
export { AlertPublisher, type AlertPublisherOptions, type AlertPublisherStats, type PublishFn } from "./publisher.js";
export { WebhookSink, type WebhookSinkOptions, type WebhookStats } from "./webhook.js";
export {
  followAlerts,
  readRecentAlerts,
  type AlertFollower,
  type AlertReadOptions,
  type AlertReadStats,
  type RecentAlertsOptions,
} from "./reader.js";
