// The events stream sized by time, not by a guessed byte count: operators
// know how far back they want `observe --since` and a restarted consumer to
// reach (the horizon) and roughly how busy the node is (events/s); the bytes
// that takes follow from what an event measurably costs in the stream.
//
//   max_age   = horizon
//   max_bytes = max(floor, horizon × rate × bytes per event at that rate × margin)
//   bytes per event at a rate = EVENT_STREAM_BYTES + MESSAGE_STREAM_BYTES / events per message
//
// Events per message follow from how the publisher cuts batches: a batch closes
// at DEFAULT_MAX_BATCH_EVENTS or after DEFAULT_MAX_BATCH_DELAY_MS, so at a
// sustained rate a message holds rate × delay events (at least 1, at most the cap).
import { InvalidArgumentError } from "../errors/mod.js";
import { DEFAULT_MAX_BATCH_DELAY_MS, DEFAULT_MAX_BATCH_EVENTS } from "./event-publisher.js";

/** How far back the events stream reaches by default: 1 h. */
export const DEFAULT_EVENTS_HORIZON_MS = 3_600_000;
/** The node's expected sustained event rate by default, events/s: about 800 plain connections/s (6 events each, both ends) or 110 through two sidecars (46 events each). */
export const DEFAULT_EVENTS_RATE = 5000;

/**
 * Stream bytes one event adds to a message, measured: mesh-like events (the
 * mesh lab's recorded scenarios, app → sidecar → sidecar → app) took 125.4 B,
 * churn-like ones (recorded bpftrace output of a loopback churn, through the
 * agent) 109.4 B; synthetic mesh traffic (the stitcher bench's generator)
 * 123.8 B. This is the largest, rounded up. Measured on nats-server 2.9.10 by
 * reading the stream's state.bytes after publishing 50-event and then
 * 1000-event batches the way the agent publishes them
 * (test/transport/wire-bytes.ts): `npx vitest run
 * test/transport/events-stream-size.test.ts` prints the numbers and fails
 * when a fresh measurement leaves this constant behind.
 */
export const EVENT_STREAM_BYTES = 128;
/**
 * Stream bytes every message costs whatever it holds, measured with
 * EVENT_STREAM_BYTES: JetStream's record, the subject, the Nats-Msg-Id header
 * and the batch header (node, boot id, agent start); 307-320 B with a
 * 40-character node name. Longer node names cost a little more.
 */
export const MESSAGE_STREAM_BYTES = 320;
/**
 * Room above the arithmetic: bursts above the sustained rate, events larger
 * than the measured mix (IPv6 addresses, long pod and process names). With
 * it the horizon holds at up to 1.5× the stated rate.
 */
export const EVENTS_STREAM_MARGIN = 1.5;
/** The least max_bytes the events stream gets, however short the horizon or low the rate: 64 MiB. */
export const MIN_EVENTS_STREAM_BYTES = 64 * 1024 * 1024;

// nats-server 2.9 stores messages uncompressed. 2.10+ can compress the
// stream's message blocks on disk (`compression: s2`); lz4 -1 (an LZ77 coder
// without entropy coding, as S2 is) packs the measured blocks to 18 % (churn)
// and 23 % (mesh) of their size. An estimate, not a measurement of S2: such
// a server would put the same horizon in about a quarter of the disk. (Its
// max_bytes still counts uncompressed bytes, so the sizing here stays.)

/** How far back the events stream must reach, at what rate. Both optional: the defaults fill in. */
export interface EventsHorizon {
  /** max_age of the stream, ms. Default DEFAULT_EVENTS_HORIZON_MS (1 h). */
  horizonMs?: number;
  /** The node's expected sustained rate, events/s. Default DEFAULT_EVENTS_RATE (5000). */
  eventsPerSec?: number;
}

/** Stream bytes per event at a sustained rate: its own bytes plus its share of its message's. */
export function streamBytesPerEvent(eventsPerSec: number): number {
  const perMessage = Math.min(DEFAULT_MAX_BATCH_EVENTS, Math.max(1, (eventsPerSec * DEFAULT_MAX_BATCH_DELAY_MS) / 1000));
  return EVENT_STREAM_BYTES + MESSAGE_STREAM_BYTES / perMessage;
}

/**
 * The events stream's max_age and max_bytes for a horizon and a rate.
 * @throws InvalidArgumentError for a horizon that is not a whole number of ms > 0 or a rate that is not > 0
 */
export function eventsStreamLimits(h: EventsHorizon = {}): { maxAgeMs: number; maxBytes: number } {
  const horizonMs = h.horizonMs ?? DEFAULT_EVENTS_HORIZON_MS;
  const rate = h.eventsPerSec ?? DEFAULT_EVENTS_RATE;
  if (!Number.isSafeInteger(horizonMs) || horizonMs <= 0) {
    throw InvalidArgumentError.format("events horizon", `must be a whole number of ms > 0, got ${String(horizonMs)}`);
  }
  if (!Number.isFinite(rate) || rate <= 0) throw InvalidArgumentError.format("events rate", `must be > 0 events/s, got ${String(rate)}`);
  const bytes = Math.ceil((horizonMs / 1000) * rate * streamBytesPerEvent(rate) * EVENTS_STREAM_MARGIN);
  if (!Number.isSafeInteger(bytes)) throw InvalidArgumentError.format("events horizon", `× rate needs ${bytes} bytes: more than a stream can be given`);
  return { maxAgeMs: horizonMs, maxBytes: Math.max(MIN_EVENTS_STREAM_BYTES, bytes) };
}
