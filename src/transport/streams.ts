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
const GIB = 1024 ** 3;
const MIB = 1024 ** 2;

/**
 * Defaults:
 * - events: 24 h, 1 GiB, unlimited count, 2 min duplicate window, 1 replica
 *   (raw events are only needed until traces are built and for `observe`).
 * - traces: 7 days, 512 MiB.
 * - alerts: 30 days, 64 MiB.
 */
export const DEFAULT_STREAM_LIMITS: Readonly<Record<StreamKey, Readonly<StreamLimits>>> = {
  events: { maxAgeMs: 24 * HOUR, maxBytes: GIB, maxMsgs: -1, duplicateWindowMs: 2 * MINUTE, replicas: 1 },
  traces: { maxAgeMs: 7 * 24 * HOUR, maxBytes: 512 * MIB, maxMsgs: -1, duplicateWindowMs: 2 * MINUTE, replicas: 1 },
  alerts: { maxAgeMs: 30 * 24 * HOUR, maxBytes: 64 * MIB, maxMsgs: -1, duplicateWindowMs: 2 * MINUTE, replicas: 1 },
};

export type StreamKey = "events" | "traces" | "alerts";

const STREAMS: Readonly<Record<StreamKey, { name: string; subject: string }>> = {
  events: { name: EVENTS_STREAM, subject: EVENTS_WILDCARD },
  traces: { name: TRACES_STREAM, subject: TRACES_WILDCARD },
  alerts: { name: ALERTS_STREAM, subject: ALERTS_WILDCARD },
};

export type StreamLimitsOverrides = Partial<Record<StreamKey, Partial<StreamLimits>>>;

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

/**
 * Create TCPTRAIL_EVENTS, TCPTRAIL_TRACES and TCPTRAIL_ALERTS when absent,
 * or update their limits when present. Returns the resulting stream infos.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  overrides: StreamLimitsOverrides = {},
): Promise<Record<StreamKey, StreamInfo>> {
  const out = {} as Record<StreamKey, StreamInfo>;
  for (const key of Object.keys(STREAMS) as StreamKey[]) {
    const { name, subject } = STREAMS[key];
    const limits = limitsConfig({ ...DEFAULT_STREAM_LIMITS[key], ...overrides[key] });
    let existing: StreamInfo | undefined;
    try {
      existing = await jsm.streams.info(name);
    } catch (e) {
      if (!isStreamNotFound(e)) throw e;
    }
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
  }
  return out;
}
