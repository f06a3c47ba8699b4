// EventBatch wire format: encoded by event-encoder.ts straight from the
// agent's events (the field numbers of event.proto, the generated encoder's
// bytes), decoded defensively with the generated static code because anything
// can be published on a subject. Kernel times travel as offsets from the
// batch's base second (event.proto): the encoder picks the base, the decoder
// gives every event back its exact bigint tsNs/gapStartNs, so nothing past
// this file sees offsets.
import {
  v1,
  baseNsOf,
  baseSecondsOf,
  withKernelTimes,
  type ConnEvent,
  type ConnEventInit,
  type EventBatch,
} from "../model/mod.js";
import { MalformedMessageError } from "./errors.js";
import { writeBatchHeader, writeEvent } from "./event-encoder.js";
import { WireWriter } from "./wire-writer.js";
import { PodDirectory, applyPodDirectory } from "./pod-directory.js";

/** A decoded batch: its events are full ConnEvent messages (every scalar present). */
export type DecodedBatch = Omit<EventBatch, "events"> & { events: ConnEvent[] };

/** Who produced a batch: with first_seq it names the batch uniquely. */
export interface BatchOrigin {
  node: string;
  bootId: string;
  agentStartUs: number;
}

// One writer for every batch: encoding is synchronous, so it is never shared
// by two batches at once (each thread has its own).
const writer = new WireWriter();
const podDirectory = new PodDirectory();

/**
 * Encode one batch. The base is the earliest kernel time of the batch rounded
 * down to the second, not the first event's: an event the agent released late
 * (after later ones) may sit anywhere and must not need a negative uint64
 * offset. Offsets then stay within the batch's span: 1-5 byte varints instead
 * of the 8-9 bytes of absolute ns.
 *
 * The header comes first, then each event as one piece of the repeated field
 * (a repeated field may come in any number of pieces, and every decoder
 * merges them), written from the event itself (event-encoder.ts): the bytes
 * are the generated encoder's, without a wire object per event.
 * @throws RangeError when the batch spans more than 2^53 ns (104 days), which
 * no agent queue holds
 */
export function encodeBatch(origin: BatchOrigin, events: readonly ConnEventInit[]): Uint8Array {
  let earliest = events[0]?.tsNs ?? 0n;
  for (let i = 1; i < events.length; i++) {
    const ts = events[i]!.tsNs;
    if (ts < earliest) earliest = ts;
  }
  const baseS = baseSecondsOf(earliest);
  const baseNs = BigInt(baseS) * 1_000_000_000n;
  const baseNum = baseNs <= MAX_SAFE_NS ? Number(baseNs) : -1;
  writer.reset();
  writeBatchHeader(writer, { node: origin.node, bootId: origin.bootId, agentStartUs: origin.agentStartUs, firstSeq: events[0]?.seq ?? 0, baseS });
  podDirectory.clear();
  for (let i = 0; i < events.length; i++) {
    writeEvent(writer, events[i]!, baseNs, baseNum);
    podDirectory.note(events[i]!);
  }
  podDirectory.writeAndClear(writer);
  return writer.finish();
}

const MAX_SAFE_NS = BigInt(Number.MAX_SAFE_INTEGER);

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
 * has: a node name, at least one event, seqs that start at first_seq and
 * increase, and kernel-time offsets that are exact (protobufjs rounds a
 * varint past 2^53) and land on a u64 clock.
 * @throws MalformedMessageError
 */
export function decodeBatch(bytes: Uint8Array): DecodedBatch {
  let raw: EventBatch;
  try {
    raw = v1.EventBatch.decode(bytes);
  } catch (e) {
    throw new MalformedMessageError(e instanceof Error ? e.message : String(e), { cause: e });
  }
  if (!raw.node || raw.node.length > MAX_NODE_NAME) throw new MalformedMessageError("missing or invalid node");
  if (!(raw.firstSeq >= 1)) throw new MalformedMessageError("first_seq must be 1 or more");
  const events = raw.events;
  if (events.length === 0) throw new MalformedMessageError("no events");
  let prev = raw.firstSeq - 1;
  for (const ev of events) {
    const seq = ev.seq ?? 0;
    if (seq <= prev) throw new MalformedMessageError(`event seq ${seq} does not follow ${prev}`);
    prev = seq;
  }
  if ((events[0]?.seq ?? 0) !== raw.firstSeq) throw new MalformedMessageError("first_seq does not match the first event");
  const baseNs = baseNsOf(raw.baseS);
  if (baseNs === null) throw new MalformedMessageError(`base_s ${raw.baseS} is not a second of a u64 clock`);
  for (const ev of events) {
    const timed = withKernelTimes(ev, baseNs);
    if (typeof timed === "string") throw new MalformedMessageError(timed);
  }
  // Every event now carries its exact tsNs/gapStartNs (set in place above),
  // and the labels of its pod from the batch's directory.
  applyPodDirectory(raw.events as unknown as ConnEvent[], raw.pods);
  return raw as unknown as DecodedBatch;
}
