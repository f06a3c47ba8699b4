// Heartbeat wire format (event.proto's Heartbeat): the agent's "my event time
// is now T, and every event up to T went out with a seq up to S". The
// watermark travels as an offset from a base second, as event times do, so it
// stays exact past 2^53 ns of uptime; decoding checks what every valid one
// has, since anything can be published on a subject.
import { v1, baseNsOf, baseSecondsOf, fromOffset, offsetFrom, type KernelNs } from "../model/mod.js";
import type { BatchOrigin } from "./batch-codec.js";
import { MalformedMessageError } from "./errors.js";

/** A heartbeat as the agent sends it and the consumer reads it. */
export interface AgentHeartbeat extends BatchOrigin {
  /** Every event of this run with a seq up to here was acked by JetStream. */
  lastSeq: number;
  /** Kernel ns up to which every event read was released (with a seq up to lastSeq). */
  watermarkNs: KernelNs;
  /** The watermark on the wall clock, µs since the epoch. */
  watermarkTimeUs: number;
}

export function encodeHeartbeat(h: AgentHeartbeat): Uint8Array {
  const baseS = baseSecondsOf(h.watermarkNs);
  const baseNs = BigInt(baseS) * 1_000_000_000n;
  return v1.Heartbeat.encode({
    node: h.node,
    bootId: h.bootId,
    agentStartUs: h.agentStartUs,
    lastSeq: h.lastSeq,
    baseS,
    watermarkOffsetNs: offsetFrom(baseNs, h.watermarkNs),
    watermarkTimeUs: h.watermarkTimeUs,
  }).finish();
}

/** Same bound as a batch's node name. */
const MAX_NODE_NAME = 253;

/** @throws MalformedMessageError */
export function decodeHeartbeat(bytes: Uint8Array): AgentHeartbeat {
  let raw: ReturnType<typeof v1.Heartbeat.decode>;
  try {
    raw = v1.Heartbeat.decode(bytes);
  } catch (e) {
    throw new MalformedMessageError(e instanceof Error ? e.message : String(e), { cause: e });
  }
  if (!raw.node || raw.node.length > MAX_NODE_NAME) throw new MalformedMessageError("heartbeat: missing or invalid node");
  if (!(raw.lastSeq >= 1) || !Number.isSafeInteger(raw.lastSeq)) throw new MalformedMessageError("heartbeat: last_seq must be 1 or more");
  const baseNs = baseNsOf(raw.baseS);
  if (baseNs === null) throw new MalformedMessageError(`heartbeat: base_s ${raw.baseS} is not a second of a u64 clock`);
  const watermarkNs = fromOffset(baseNs, raw.watermarkOffsetNs);
  if (watermarkNs === null || watermarkNs === 0n) throw new MalformedMessageError(`heartbeat: watermark_offset_ns ${raw.watermarkOffsetNs} is not a kernel time`);
  if (!(raw.watermarkTimeUs > 0) || !Number.isSafeInteger(raw.watermarkTimeUs)) throw new MalformedMessageError("heartbeat: watermark_time_us must be a wall time");
  return { node: raw.node, bootId: raw.bootId, agentStartUs: raw.agentStartUs, lastSeq: raw.lastSeq, watermarkNs, watermarkTimeUs: raw.watermarkTimeUs };
}
