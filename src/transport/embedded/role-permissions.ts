// Who may do what on tcptrail's NATS: the subject permissions of each role,
// as data. `run`'s embedded server is configured from them
// (embedded/auth-config.ts) and docs/SECURITY.md tabulates the same lists
// for operators configuring their own server.
//
// JetStream is driven through request subjects ($JS.API.*) whose replies come
// back on the client's inbox, so a role's permissions name the API calls it
// makes (on which stream and which consumer) and the inbox it may hear on.
// Subject wildcards match whole tokens only, so the streams are listed by name.
import { ALERTS_STREAM, EVENTS_STREAM, TRACES_STREAM } from "../streams.js";
import { ALERTS_WILDCARD, EVENTS_WILDCARD, HEARTBEATS_WILDCARD, SUBJECT_PREFIX, TRACES_WILDCARD, eventsSubject, heartbeatsSubject } from "../subjects.js";

export type NatsRole = "agent" | "consumer" | "reader";
export const NATS_ROLES: readonly NatsRole[] = ["agent", "consumer", "reader"];

/**
 * Each role's reply-subject prefix. The agent's and the consumer's are their
 * own, so no other client can subscribe to their replies (the consumer's
 * replies carry the events its durable consumer fetches). Readers share the
 * standard `_INBOX`: whatever other readers are answered, they may read too,
 * and a CLI with a reader's credentials needs no setting to use it.
 */
export const ROLE_INBOX_PREFIX: Readonly<Record<NatsRole, string>> = {
  agent: "_INBOX_TCPTRAIL_AGENT",
  consumer: "_INBOX_TCPTRAIL_CONSUMER",
  reader: "_INBOX",
};

/** = the consumer's default durable name (consumer/service.ts): the one durable consumer of the events stream. */
export const DEFAULT_DURABLE_NAME = "tcptrail-stitcher";

export interface SubjectPermissions {
  publish: { allow: string[]; deny?: string[] };
  subscribe: { allow: string[]; deny?: string[] };
}

export interface RolePermissionsOptions {
  /** The consumer's durable consumer on the events stream. Default DEFAULT_DURABLE_NAME. */
  durableName?: string;
  /**
   * The one node whose events the agent may publish: its user gets
   * `tcptrail.v1.events.<node>` (the subject token, as the publisher spells
   * it) instead of `tcptrail.v1.events.>`, so a compromised agent cannot
   * publish events, or GAPs, in another node's name. `run` knows its node at
   * start and sets it. Default: none, every node's subject (one user shared
   * by all agents, as a DaemonSet with one Secret has).
   */
  node?: string;
}

const ALL_STREAMS = [EVENTS_STREAM, TRACES_STREAM, ALERTS_STREAM];

/** Create, update and look at a stream: what ensureStreams does at start. */
const ensureStream = (stream: string): string[] => [
  `$JS.API.STREAM.INFO.${stream}`,
  `$JS.API.STREAM.CREATE.${stream}`,
  `$JS.API.STREAM.UPDATE.${stream}`,
];

/** The calls of one named consumer: create or update (both API generations of nats-server), info, pull. */
const namedConsumer = (stream: string, name: string): string[] => [
  `$JS.API.CONSUMER.CREATE.${stream}.${name}`,
  `$JS.API.CONSUMER.CREATE.${stream}.${name}.>`,
  `$JS.API.CONSUMER.DURABLE.CREATE.${stream}.${name}`,
  `$JS.API.CONSUMER.INFO.${stream}.${name}`,
  `$JS.API.CONSUMER.MSG.NEXT.${stream}.${name}`,
];

/** Short-lived consumers of any name (observe, alerts, their ordered consumers): create, info, pull, delete. */
const anyConsumer = (stream: string): string[] => [
  `$JS.API.CONSUMER.CREATE.${stream}`,
  `$JS.API.CONSUMER.CREATE.${stream}.>`,
  `$JS.API.CONSUMER.INFO.${stream}.*`,
  `$JS.API.CONSUMER.MSG.NEXT.${stream}.*`,
  `$JS.API.CONSUMER.DELETE.${stream}.*`,
];

/**
 * The permissions of each role:
 * - agent: publish events and heartbeats (its node's only, with `node`; and
 *   the stream's create/update/info it does at start), hear its own replies
 *   (publish acks). It cannot publish traces or
 *   alerts, read anything, or touch another stream or any consumer.
 * - consumer: read events through its durable consumer (pull and ack) and
 *   the agents' heartbeats, publish traces and alerts, create or update the three streams.
 * - reader (the CLI's observe and alerts, and scripts): read events, traces
 *   and alerts, live or from the streams through consumers of their own; it
 *   cannot publish anything but those API calls, nor touch the consumer's
 *   durable (pulling from it would take events from the trace pipeline).
 */
export function rolePermissions(o: RolePermissionsOptions = {}): Record<NatsRole, SubjectPermissions> {
  const durable = o.durableName ?? DEFAULT_DURABLE_NAME;
  return {
    agent: {
      publish: {
        allow: [
          o.node !== undefined ? eventsSubject(o.node) : EVENTS_WILDCARD,
          o.node !== undefined ? heartbeatsSubject(o.node) : HEARTBEATS_WILDCARD,
          "$JS.API.INFO",
          ...ensureStream(EVENTS_STREAM),
        ],
      },
      subscribe: { allow: [`${ROLE_INBOX_PREFIX.agent}.>`] },
    },
    consumer: {
      publish: {
        allow: [
          TRACES_WILDCARD,
          ALERTS_WILDCARD,
          "$JS.API.INFO",
          ...ALL_STREAMS.flatMap(ensureStream),
          ...namedConsumer(EVENTS_STREAM, durable),
          `$JS.ACK.${EVENTS_STREAM}.${durable}.>`,
        ],
      },
      subscribe: { allow: [HEARTBEATS_WILDCARD, `${ROLE_INBOX_PREFIX.consumer}.>`] },
    },
    reader: {
      publish: {
        allow: ["$JS.API.INFO", ...ALL_STREAMS.map((s) => `$JS.API.STREAM.INFO.${s}`), ...ALL_STREAMS.flatMap(anyConsumer)],
        deny: [`$JS.API.CONSUMER.*.${EVENTS_STREAM}.${durable}`, `$JS.API.CONSUMER.CREATE.${EVENTS_STREAM}.${durable}.>`, `$JS.API.CONSUMER.MSG.NEXT.${EVENTS_STREAM}.${durable}`],
      },
      subscribe: { allow: [`${SUBJECT_PREFIX}.>`, `${ROLE_INBOX_PREFIX.reader}.>`] },
    },
  };
}
