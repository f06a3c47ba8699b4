// Generators for what can arrive on tcptrail.v1.events.<node>: batches an
// agent would encode (with every field drawn from what the kernel and the
// agent produce), and batches a hostile or broken publisher would (any value
// each field's protobuf type can carry), plus an independent statement of
// what a sane event is, written from event.proto and docs/EVENTS.md rather
// than from src/consumer/event-sanity.ts.
import fc from "fast-check";
import { EventKind, MAX_KERNEL_NS, v1, type ConnEvent, type ConnEventInit } from "../../src/model/mod.js";
import { encodeBatch, type BatchOrigin } from "../../src/transport/mod.js";

const MAX_U32 = 2 ** 32 - 1;
// The last kind event.proto names (EVENT_KIND_SOCKET_LINK), written here, not derived from the enum.
const MAX_KIND = 11;
// Wall-clock µs of 2020..2100: what time_us holds when the agent sets it.
const timeUs = fc.integer({ min: 1_577_836_800_000_000, max: 4_102_444_800_000_000 });
// Kernel ns since boot: seconds to centuries of uptime (past 2^53 after 104 days).
const kernelNs = fc.bigInt({ min: 1_000n, max: 1n << 62n });
const ip = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constant(""));
const endpoint = fc.option(fc.record({ ip, port: fc.integer({ min: 0, max: 65535 }) }), { nil: undefined });
const proc = fc.option(fc.record({ pid: fc.nat({ max: MAX_U32 }), tid: fc.nat({ max: MAX_U32 }), comm: fc.string({ maxLength: 16 }) }), { nil: undefined });

/** The origin of a batch (node, boot, agent run). */
export const origin: fc.Arbitrary<BatchOrigin> = fc.record({
  node: fc.string({ minLength: 1, maxLength: 40 }),
  bootId: fc.uuid(),
  agentStartUs: timeUs,
});

/** Events as an agent builds them: seqs from firstSeq up, kernel times within a batch's span. */
export const agentEvents: fc.Arbitrary<ConnEventInit[]> = fc
  .tuple(
    fc.integer({ min: 1, max: 2 ** 40 }),
    kernelNs,
    fc.array(
      fc.record({
        offset: fc.nat({ max: 2_000_000_000 }),
        gap: fc.boolean(),
        kind: fc.integer({ min: 1, max: MAX_KIND }) as fc.Arbitrary<EventKind>,
        timeUs,
        sock: fc.bigInt({ min: 0n, max: MAX_KERNEL_NS }).map((v) => v.toString(16)),
        netns: fc.nat({ max: MAX_U32 }),
        pod: fc.string({ maxLength: 30 }),
        family: fc.constantFrom(0, 4, 6),
        local: endpoint,
        remote: endpoint,
        oldState: fc.integer({ min: 0, max: 13 }),
        newState: fc.integer({ min: 0, max: 13 }),
        resetReason: fc.integer({ min: 0, max: 26 }),
        uid: fc.nat({ max: MAX_U32 }),
        process: proc,
        role: fc.integer({ min: 0, max: 3 }),
        leg: fc.integer({ min: 0, max: 5 }),
        ret: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        target: endpoint,
        fd: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
        lost: fc.nat({ max: 1_000_000 }),
        gapReason: fc.string({ maxLength: 20 }),
        linkedSock: fc.bigInt({ min: 0n, max: MAX_KERNEL_NS }).map((v) => v.toString(16)),
        linkSources: fc.nat({ max: MAX_U32 }),
      }),
      { minLength: 1, maxLength: 6 },
    ),
  )
  .map(([firstSeq, base, drafts]) =>
    drafts.map(({ offset, gap, ...rest }, i) => ({
      ...rest,
      seq: firstSeq + i,
      tsNs: base + BigInt(offset),
      gapStartNs: gap ? base : undefined,
    })),
  );

// Any value a protobuf field of the type can carry: the edges of each wire
// type and past what the JS number the decoder makes can hold exactly.
const u32Any = fc.oneof(fc.nat({ max: MAX_U32 }), fc.constantFrom(0, 1, MAX_U32));
const u64Any = fc.oneof(fc.nat(), fc.maxSafeNat(), fc.constantFrom(0, 1, 2 ** 53 - 1, 2 ** 53, 2 ** 53 + 2, 2 ** 63, 2 ** 64 - 2 ** 11), fc.double({ min: 0, max: 2 ** 64 - 2 ** 11, noNaN: true }).map(Math.floor));
const i32Any = fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
const s64Any = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constantFrom(-(2 ** 63), 2 ** 63 - 2 ** 10, 2 ** 53 + 2, -(2 ** 53) - 2, 2 ** 53 - 1, -(2 ** 53 - 1)));
const enumAny = fc.oneof(fc.integer({ min: 0, max: 30 }), i32Any);
const strAny = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "binary", maxLength: 80 }), fc.nat({ max: 400 }).map((n) => "f".repeat(n)));
const endpointAny = fc.option(fc.record({ ip: strAny, port: u32Any }, { requiredKeys: [] }), { nil: undefined });
const procAny = fc.option(fc.record({ pid: u32Any, tid: u32Any, comm: strAny }, { requiredKeys: [] }), { nil: undefined });

/** Any value for each field of a wire ConnEvent. */
const HOSTILE_FIELDS = {
  seq: u64Any,
  kind: enumAny,
  tsOffsetNs: u64Any,
  timeUs: u64Any,
  sock: strAny,
  netns: u64Any,
  pod: strAny,
  family: u32Any,
  local: endpointAny,
  remote: endpointAny,
  oldState: enumAny,
  newState: enumAny,
  resetReason: enumAny,
  uid: u32Any,
  process: procAny,
  owner: procAny,
  role: enumAny,
  leg: enumAny,
  ret: i32Any,
  target: endpointAny,
  shutdownHow: u32Any,
  fd: i32Any,
  lost: u64Any,
  gapReason: strAny,
  gapStartOffsetNs: s64Any,
  linkedSock: strAny,
  linkSources: u32Any,
} as const;

/** One field of one event (by index, wrapping) set to any value its type can carry. */
export interface FieldOverride {
  event: number;
  field: keyof typeof HOSTILE_FIELDS;
  value: unknown;
}

export const fieldOverride: fc.Arbitrary<FieldOverride> = fc.oneof(
  ...Object.entries(HOSTILE_FIELDS).map(([field, value]) =>
    fc.record({ event: fc.nat({ max: 7 }), field: fc.constant(field as keyof typeof HOSTILE_FIELDS), value: value as fc.Arbitrary<unknown> }),
  ),
);

/**
 * An event's two kernel times at the far ends of what the wire carries
 * exactly (offsets of ±(2^53-1) from base_s): the edges where a consumer's
 * arithmetic on them breaks, which random overrides reach only rarely.
 */
export const kernelTimeEdges: fc.Arbitrary<FieldOverride[]> = fc
  .tuple(fc.nat({ max: 7 }), fc.constantFrom(0, 1, 2 ** 53 - 1), fc.constantFrom(-(2 ** 53 - 1), -1, 0, 1, 2 ** 53 - 1))
  .map(([event, ts, gap]) => [
    { event, field: "tsOffsetNs", value: ts },
    { event, field: "gapStartOffsetNs", value: gap },
  ]);

export type WireBatchProps = Record<string, unknown> & { events: Record<string, unknown>[] };

/** The message properties of an agent's batch, for overrides to break. */
export function batchProps(o: BatchOrigin, events: readonly ConnEventInit[]): WireBatchProps {
  // Decoding the agent's own encoding gives the wire form (offsets from base_s) without a second encoder.
  return v1.EventBatch.toObject(v1.EventBatch.decode(encodeBatch(o, events))) as WireBatchProps;
}

/** props with the overrides applied (a new object: the same props serve many override sets). */
export function withOverrides(props: WireBatchProps, header: Record<string, unknown>, overrides: readonly FieldOverride[]): WireBatchProps {
  const events = props.events.map((e) => ({ ...e }));
  for (const o of overrides) events[o.event % events.length]![o.field] = o.value;
  return { ...props, ...header, events };
}

/** Batch-level fields set to any value: node, boot, first_seq and base_s. */
export const headerOverride: fc.Arbitrary<Record<string, unknown>> = fc.record(
  { node: strAny, bootId: strAny, agentStartUs: u64Any, firstSeq: u64Any, baseS: u64Any },
  { requiredKeys: [] },
);

const MAX_I63 = (1n << 63n) - 1n;
const isU = (v: unknown, max: number): boolean => typeof v === "number" && Number.isSafeInteger(v) && v >= 0 && v <= max;

/**
 * Why an event the consumer keeps could not come from an agent, or null.
 * Every number must be exact (a safe integer: the store keys events by seq
 * and keeps counters as integers), every enum a value event.proto names,
 * every kernel time a u64 SQLite's int64 holds, every string as short as
 * the kernel and the agent make it.
 */
export function unsaneField(e: ConnEvent): string | null {
  if (!isU(e.seq, Number.MAX_SAFE_INTEGER) || e.seq < 1) return "seq";
  if (!isU(e.kind, MAX_KIND) || e.kind === 0) return "kind";
  if (typeof e.tsNs !== "bigint" || e.tsNs <= 0n || e.tsNs > MAX_I63) return "tsNs";
  if (typeof e.gapStartNs !== "bigint" || e.gapStartNs < 0n || e.gapStartNs > MAX_I63) return "gapStartNs";
  // A stored event keeps its gap start as an exact offset from its own ts.
  if (e.gapStartNs !== 0n && (e.gapStartNs > e.tsNs ? e.gapStartNs - e.tsNs : e.tsNs - e.gapStartNs) > BigInt(Number.MAX_SAFE_INTEGER)) return "gapStartNs offset";
  if (!isU(e.timeUs, Number.MAX_SAFE_INTEGER) || (e.timeUs !== 0 && (e.timeUs < 946_684_800_000_000 || e.timeUs > 7_258_118_400_000_000))) return "timeUs";
  if (!/^[0-9a-f]{0,32}$/.test(e.sock) || !/^[0-9a-f]{0,32}$/.test(e.linkedSock)) return "sock";
  if (!isU(e.netns, Number.MAX_SAFE_INTEGER) || !isU(e.lost, Number.MAX_SAFE_INTEGER)) return "netns/lost";
  if (e.pod.length > 253 || e.gapReason.length > 253) return "pod/gapReason";
  for (const ep of [e.local, e.remote, e.target]) if (ep && ((ep.ip ?? "").length > 45 || !isU(ep.port ?? 0, 65535))) return "endpoint";
  if (!isU(e.oldState, 13) || !isU(e.newState, 13)) return "state";
  if (!isU(e.resetReason, 26) || !isU(e.role, 3) || !isU(e.leg, 5)) return "enum";
  if ((e.process?.comm ?? "").length > 64 || (e.owner?.comm ?? "").length > 64) return "comm";
  return null;
}
