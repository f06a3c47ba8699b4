// What one connection costs in the JetStream events stream: its events
// encoded by the transport's own batch encoder, in batches of the size the
// agent's batch cutter closes at a given connection rate. Payload bytes only:
// JetStream's per-message record (subject, Nats-Msg-Id header) comes on top,
// once per batch, so it shrinks per event as batches grow.
import { DEFAULT_MAX_BATCH_DELAY_MS, DEFAULT_MAX_BATCH_EVENTS, encodeBatch } from "../src/transport/mod.js";
import type { TraceCloner } from "./trace-clone.js";

export interface StreamBytes {
  /** Events per published batch at this rate. */
  batchEvents: number;
  batches: number;
  events: number;
  /** Encoded batch bytes / events. */
  bytesPerEvent: number;
  eventsPerConnection: number;
  /** bytesPerEvent × eventsPerConnection. */
  bytesPerConnection: number;
}

/**
 * Events per batch the agent publishes at `connsPerSec`: a batch closes when
 * full (DEFAULT_MAX_BATCH_EVENTS) or when its first event waited
 * DEFAULT_MAX_BATCH_DELAY_MS, whichever comes first.
 */
export function batchEventsAt(connsPerSec: number, eventsPerConnection: number): number {
  const perDelay = Math.ceil((connsPerSec * eventsPerConnection * DEFAULT_MAX_BATCH_DELAY_MS) / 1000);
  return Math.max(1, Math.min(DEFAULT_MAX_BATCH_EVENTS, perDelay));
}

/** Encode one copy of the template's events (times spread at the cloner's rate) per node, in its agent's batches. */
export function streamBytes(cloner: TraceCloner, copy = 0): StreamBytes {
  const { template } = cloner;
  // Each node's agent cuts its own batches from its share of the connections.
  const batchEvents = batchEventsAt(cloner.ratePerSec / template.nodes.length, template.eventsPerConnection);
  let bytes = 0;
  let events = 0;
  let batches = 0;
  template.nodes.forEach(({ node }, n) => {
    const all = cloner.events(copy, n);
    const origin = { node, bootId: "bench", agentStartUs: cloner.firstUs };
    for (let from = 0; from < all.length; from += batchEvents) {
      const batch = all.slice(from, from + batchEvents);
      bytes += encodeBatch(origin, batch).length;
      events += batch.length;
      batches++;
    }
  });
  const bytesPerEvent = events > 0 ? bytes / events : 0;
  return {
    batchEvents,
    batches,
    events,
    bytesPerEvent,
    eventsPerConnection: template.eventsPerConnection,
    bytesPerConnection: bytesPerEvent * template.eventsPerConnection,
  };
}
