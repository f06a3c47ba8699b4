// EventBatch wire format: encode with the generated static code (no reflection),
// decode defensively because anything can be published on a subject.
import { v1, type ConnEvent, type ConnEventInit, type EventBatch } from "../model/mod.js";
import { MalformedMessageError } from "./errors.js";

/** A decoded batch: its events are full ConnEvent messages (every scalar present). */
export type DecodedBatch = Omit<EventBatch, "events"> & { events: ConnEvent[] };

/** Who produced a batch: with first_seq it names the batch uniquely. */
export interface BatchOrigin {
  node: string;
  bootId: string;
  agentStartUs: number;
}

export function encodeBatch(origin: BatchOrigin, events: ConnEventInit[]): Uint8Array {
  return v1.EventBatch.encode({
    node: origin.node,
    bootId: origin.bootId,
    agentStartUs: origin.agentStartUs,
    firstSeq: events[0]?.seq ?? 0,
    events,
  }).finish();
}

/**
 * The JetStream message id of a batch. Deterministic so that a retried publish
 * of the same batch is recognised by the stream's duplicate window.
 */
export const batchMsgId = (origin: BatchOrigin, firstSeq: number): string =>
  `${origin.node}:${origin.bootId}:${origin.agentStartUs}:${firstSeq}`;

/** Bound on what a sane batch looks like; a hostile one is rejected before anyone walks it. */
const MAX_NODE_NAME = 253;

/**
 * Decode one EventBatch. protobufjs throws on broken framing but happily
 * decodes random bytes into nonsense, so also check what every valid batch
 * has: a node name, at least one event, and seqs that start at first_seq and
 * increase.
 * @throws MalformedMessageError
 */
export function decodeBatch(bytes: Uint8Array): DecodedBatch {
  let batch: DecodedBatch;
  try {
    batch = v1.EventBatch.decode(bytes) as DecodedBatch;
  } catch (e) {
    throw new MalformedMessageError(e instanceof Error ? e.message : String(e), { cause: e });
  }
  if (!batch.node || batch.node.length > MAX_NODE_NAME) throw new MalformedMessageError("missing or invalid node");
  if (!(batch.firstSeq >= 1)) throw new MalformedMessageError("first_seq must be 1 or more");
  const events = batch.events;
  if (events.length === 0) throw new MalformedMessageError("no events");
  let prev = batch.firstSeq - 1;
  for (const ev of events) {
    const seq = ev.seq ?? 0;
    if (seq <= prev) throw new MalformedMessageError(`event seq ${seq} does not follow ${prev}`);
    prev = seq;
  }
  if ((events[0]?.seq ?? 0) !== batch.firstSeq) throw new MalformedMessageError("first_seq does not match the first event");
  return batch;
}
