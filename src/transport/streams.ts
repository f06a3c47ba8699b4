// The three JetStream streams tcptrail relies on. Created on first start and
// re-asserted on every start, so a changed retention in the config takes
// effect without anyone running `nats stream edit`.
import { nanos } from "@nats-io/nats-core";
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
  type StreamConfig,
  type StreamInfo,
} from "@nats-io/jetstream";
import { StreamStorageError } from "./errors.js";
import { eventsStreamLimits, type EventsHorizon } from "./events-stream-size.js";
import { ALERTS_WILDCARD, EVENTS_WILDCARD, TRACES_WILDCARD } from "./subjects.js";

export const EVENTS_STREAM = "TCPTRAIL_EVENTS";
export const TRACES_STREAM = "TCPTRAIL_TRACES";
export const ALERTS_STREAM = "TCPTRAIL_ALERTS";

/** Retention of one stream; oldest messages are discarded when a limit is hit. */
export interface StreamLimits {
  /** Drop messages older than this; 0 keeps them forever. */
  maxAgeMs: number;
  /** Total size bound; -1 is unlimited. */
  maxBytes: number;
  /** Message count bound; -1 is unlimited. */
  maxMsgs: number;
  /** Publishes with the same msgID within this window are stored once. */
  duplicateWindowMs: number;
  /** Replicas in a cluster (1 for a single server). */
  replicas: number;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const MIB = 1024 ** 2;

/**
 * Defaults:
 * - events: sized by time (events-stream-size.ts): max age the default
 *   horizon (1 h), max bytes what that horizon takes at the default rate
 *   (5000 events/s), unlimited count, 2 min duplicate window, 1 replica (raw
 *   events are only needed until traces are built, for `observe` and for a
 *   consumer that was down).
 * - traces: 7 days, 512 MiB.
 * - alerts: 30 days, 64 MiB.
 */
export const DEFAULT_STREAM_LIMITS: Readonly<Record<StreamKey, Readonly<StreamLimits>>> = {
  events: { ...eventsStreamLimits(), maxMsgs: -1, duplicateWindowMs: 2 * MINUTE, replicas: 1 },
  traces: { maxAgeMs: 7 * 24 * HOUR, maxBytes: 512 * MIB, maxMsgs: -1, duplicateWindowMs: 2 * MINUTE, replicas: 1 },
  alerts: { maxAgeMs: 30 * 24 * HOUR, maxBytes: 64 * MIB, maxMsgs: -1, duplicateWindowMs: 2 * MINUTE, replicas: 1 },
};

export type StreamKey = "events" | "traces" | "alerts";

const STREAMS: Readonly<Record<StreamKey, { name: string; subject: string }>> = {
  events: { name: EVENTS_STREAM, subject: EVENTS_WILDCARD },
  traces: { name: TRACES_STREAM, subject: TRACES_WILDCARD },
  alerts: { name: ALERTS_STREAM, subject: ALERTS_WILDCARD },
};

const STREAM_KEYS = Object.keys(STREAMS) as StreamKey[];

/**
 * Limits to apply instead of the defaults. `eventsHorizon` sizes the events
 * stream by time (its max age and max bytes); an explicit `events.maxAgeMs` or
 * `events.maxBytes` still wins over it. `replicas` applies to every stream
 * (--stream-replicas): on a NATS cluster each stream then survives the loss
 * of a server, and one replica count for all keeps a failover from losing
 * traces or alerts while the events stay. A stream's own `replicas` still
 * wins. Plain data: it crosses to worker threads.
 */
export type StreamLimitsOverrides = Partial<Record<StreamKey, Partial<StreamLimits>>> & { eventsHorizon?: EventsHorizon; replicas?: number };

/** The limits one stream gets: its defaults, the replicas for all, the horizon's (events only), then explicit overrides. */
export function resolveStreamLimits(key: StreamKey, overrides: StreamLimitsOverrides = {}): StreamLimits {
  const byHorizon = key === "events" && overrides.eventsHorizon ? eventsStreamLimits(overrides.eventsHorizon) : {};
  const replicas = overrides.replicas !== undefined ? { replicas: overrides.replicas } : {};
  return { ...DEFAULT_STREAM_LIMITS[key], ...replicas, ...byHorizon, ...overrides[key] };
}

function limitsConfig(l: StreamLimits): Partial<StreamConfig> {
  return {
    max_age: nanos(l.maxAgeMs),
    max_bytes: l.maxBytes,
    max_msgs: l.maxMsgs,
    // The server refuses a duplicate window longer than max_age.
    duplicate_window: nanos(l.maxAgeMs > 0 ? Math.min(l.duplicateWindowMs, l.maxAgeMs) : l.duplicateWindowMs),
    num_replicas: l.replicas,
  };
}

const isStreamNotFound = (e: unknown): boolean =>
  e instanceof JetStreamApiError && e.code === JetStreamApiCodes.StreamNotFound;

// nats-server's codes for a max_bytes its JetStream storage cannot reserve
// (JSStorageResourcesExceededErr, JSInsufficientResourcesErr); @nats-io/jetstream names neither.
const NO_ROOM_CODES: ReadonlySet<number> = new Set([10047, 10023]);
const isNoRoom = (e: unknown): boolean => e instanceof JetStreamApiError && NO_ROOM_CODES.has(e.code);

/** The server's refusal in words that say what to change. */
function noRoom(name: string, maxBytes: number, cause: unknown): StreamStorageError {
  const gb = (maxBytes / 1e9).toFixed(1);
  const what = name === EVENTS_STREAM ? "shorten the events horizon (--events-horizon), lower the expected rate (--events-rate) or" : "lower its limit or";
  return new StreamStorageError(
    `stream ${name} needs ${gb} GB (max_bytes ${maxBytes}), more than the nats-server's JetStream storage can reserve: ${what} give nats-server more storage (jetstream max_file_store)`,
    { property: `${name} max_bytes`, maxBytes, cause },
  );
}

/**
 * Create TCPTRAIL_EVENTS, TCPTRAIL_TRACES and TCPTRAIL_ALERTS when absent,
 * or update their limits when present (`keys`: only these; default all).
 * Returns the resulting stream infos (of `keys`).
 * @throws StreamStorageError when the server cannot reserve a stream's max_bytes
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  overrides: StreamLimitsOverrides = {},
  keys: readonly StreamKey[] = STREAM_KEYS,
): Promise<Record<StreamKey, StreamInfo>> {
  const out = {} as Record<StreamKey, StreamInfo>;
  for (const key of keys) {
    const { name, subject } = STREAMS[key];
    const limits = limitsConfig(resolveStreamLimits(key, overrides));
    let existing: StreamInfo | undefined;
    try {
      existing = await jsm.streams.info(name);
    } catch (e) {
      if (!isStreamNotFound(e)) throw e;
    }
    try {
      out[key] = existing
        ? await jsm.streams.update(name, { ...existing.config, ...limits, subjects: [subject] })
        : await jsm.streams.add({
            name,
            subjects: [subject],
            storage: StorageType.File,
            retention: RetentionPolicy.Limits,
            // Keep the newest: a tracer cares about what just happened.
            discard: DiscardPolicy.Old,
            ...limits,
          });
    } catch (e) {
      throw isNoRoom(e) ? noRoom(name, limits.max_bytes ?? -1, e) : e;
    }
  }
  return out;
}
