// NATS subject names, in one place so the agent, the trace pipeline, alerting
// and `observe` can never disagree about where things are published.

export const SUBJECT_PREFIX = "tcptrail.v1";

/** Everything published by every node's agent. */
export const EVENTS_WILDCARD = `${SUBJECT_PREFIX}.events.>`;
export const TRACES_WILDCARD = `${SUBJECT_PREFIX}.traces.>`;
export const ALERTS_WILDCARD = `${SUBJECT_PREFIX}.alerts.>`;
/** Every agent's heartbeats (core NATS: outside every stream, so none keeps them). */
export const HEARTBEATS_WILDCARD = `${SUBJECT_PREFIX}.heartbeats.>`;

/**
 * Turn an arbitrary name into one subject token. Subjects split on ".", and
 * "*", ">" and whitespace are wildcards or separators, so a hostname like
 * "node-1.lab" would otherwise become two tokens and never match a filter.
 */
export function subjectToken(name: string): string {
  const t = name.trim().toLowerCase().replace(/[^a-z0-9_-]/g, "_");
  return t.length > 0 ? t : "_";
}

/** `tcptrail.v1.events.<node>` */
export const eventsSubject = (node: string): string => `${SUBJECT_PREFIX}.events.${subjectToken(node)}`;

/** `tcptrail.v1.heartbeats.<node>` */
export const heartbeatsSubject = (node: string): string => `${SUBJECT_PREFIX}.heartbeats.${subjectToken(node)}`;

/** `tcptrail.v1.traces.<outcome>`, e.g. outcomeName("RESET_BY_SERVER") → `...traces.reset_by_server`. */
export const tracesSubject = (outcomeName: string): string =>
  `${SUBJECT_PREFIX}.traces.${subjectToken(outcomeName)}`;

/** `tcptrail.v1.alerts.<severity>` */
export const alertsSubject = (severityName: string): string =>
  `${SUBJECT_PREFIX}.alerts.${subjectToken(severityName)}`;
