// One connection event between its in-memory shape (exact bigint kernel
// times, `tsNs`/`gapStartNs`) and its protobuf message (ns offsets from a
// base, see kernel-time.ts and event.proto). The batch codec uses the batch's
// base; the store uses each event's own time (its ts_ns column), so a stored
// body carries no absolute kernel time at all. Nothing else sees offsets.
import "./protobuf-runtime.js";
import { tcptrail } from "../gen/tcptrail.js";
import { fromOffset, offsetFrom, type KernelNs } from "./kernel-time.js";

/** An event's message properties as the generated encoder takes them (offsets, no bigint). */
export type WireEventInit = tcptrail.v1.ConnEvent.$Properties;

/** The kernel-time fields as the wire has them. */
export type WireOffsetFields = "tsOffsetNs" | "gapStartOffsetNs" | "_gapStartOffsetNs";

/** A pod's labels (key → value), shared by every event of the pod: never copied per event, never changed. */
export type PodLabels = Readonly<Record<string, string>>;

/** A decoded connection event (scalars always present, sub-messages optional), kernel times exact. */
export type ConnEvent = Omit<tcptrail.v1.ConnEvent, WireOffsetFields> & {
  /** Kernel ns since boot. */
  tsNs: KernelNs;
  /** GAP: kernel ns where the gap starts; 0n on other kinds (and on a GAP that did not say). */
  gapStartNs: KernelNs;
  /**
   * Labels of the event's pod, from its batch's pod directory (EventBatch.pods),
   * not a wire field of the event: undefined when the pod has none or is unknown.
   */
  podLabels?: PodLabels | undefined;
};

/** A connection event as plain properties, what the agent builds and encodes. */
export type ConnEventInit = Omit<tcptrail.v1.ConnEvent.$Properties, WireOffsetFields> & {
  tsNs: KernelNs;
  gapStartNs?: KernelNs | null;
  /** Labels of its pod: the encoder lists them once per batch in the pod directory. */
  podLabels?: PodLabels | undefined;
};

/** Every field of the message, spelled out: see toWireEvent. */
type WireField = Exclude<keyof WireEventInit, "$unknowns">;
type AllWireFields = { [K in WireField]: WireEventInit[K] | undefined };

/**
 * The message properties of `ev` with its kernel times as offsets from
 * `baseNs`: a new object (the caller's event is never changed), or `into`
 * overwritten, so that an encoder can reuse one object for every event. Built
 * field by field: an object spread ({ ...ev }) makes protobufjs's encoder ~7x
 * slower on Node 20, and the AllWireFields type makes a field added to the
 * proto a compile error here until it is copied.
 * @throws RangeError when a time is more than 2^53 ns from the base
 */
export function toWireEvent(ev: ConnEventInit, baseNs: KernelNs, into?: WireEventInit): WireEventInit {
  const gap = ev.gapStartNs;
  const wire = (into ?? emptyWireEvent()) as AllWireFields;
  wire.seq = ev.seq;
  wire.kind = ev.kind;
  wire.tsOffsetNs = offsetFrom(baseNs, ev.tsNs);
  wire.timeUs = ev.timeUs;
  wire.sock = ev.sock;
  wire.netns = ev.netns;
  wire.pod = ev.pod;
  wire.family = ev.family;
  wire.local = ev.local;
  wire.remote = ev.remote;
  wire.oldState = ev.oldState;
  wire.newState = ev.newState;
  wire.resetReason = ev.resetReason;
  wire.uid = ev.uid;
  wire.process = ev.process;
  wire.owner = ev.owner;
  wire.role = ev.role;
  wire.leg = ev.leg;
  wire.ret = ev.ret;
  wire.target = ev.target;
  wire.shutdownHow = ev.shutdownHow;
  wire.fd = ev.fd;
  wire.lost = ev.lost;
  wire.gapReason = ev.gapReason;
  // Absent unless set: 0n is "unknown", and non-GAP events never carry it.
  wire.gapStartOffsetNs = gap ? offsetFrom(baseNs, gap) : null;
  wire.linkedSock = ev.linkedSock;
  wire.linkSources = ev.linkSources;
  wire.estimatedLost = ev.estimatedLost;
  return wire;
}

/** A wire event with every field present and unset: one shape for toWireEvent to fill again and again. */
export function emptyWireEvent(): WireEventInit {
  const wire: AllWireFields = {
    seq: undefined,
    kind: undefined,
    tsOffsetNs: undefined,
    timeUs: undefined,
    sock: undefined,
    netns: undefined,
    pod: undefined,
    family: undefined,
    local: undefined,
    remote: undefined,
    oldState: undefined,
    newState: undefined,
    resetReason: undefined,
    uid: undefined,
    process: undefined,
    owner: undefined,
    role: undefined,
    leg: undefined,
    ret: undefined,
    target: undefined,
    shutdownHow: undefined,
    fd: undefined,
    lost: undefined,
    gapReason: undefined,
    gapStartOffsetNs: undefined,
    linkedSock: undefined,
    linkSources: undefined,
    estimatedLost: undefined,
  };
  return wire;
}

/**
 * Give a decoded message its exact kernel times, in place (no copy on the
 * consumer's hot path). Returns why it cannot, when an offset is not a safe
 * integer or lands outside a u64 clock.
 */
export function withKernelTimes(msg: WireEventInit, baseNs: KernelNs): ConnEvent | string {
  const tsOff = msg.tsOffsetNs ?? 0;
  const ts = fromOffset(baseNs, tsOff);
  if (ts === null) return `ts_offset_ns ${tsOff} is not a kernel time from base ${baseNs}`;
  let gapStart = 0n;
  const off = msg.gapStartOffsetNs;
  if (off !== null && off !== undefined) {
    const g = fromOffset(baseNs, off);
    if (g === null) return `gap_start_offset_ns ${off} is not a kernel time from base ${baseNs}`;
    gapStart = g;
  }
  const ev = msg as unknown as ConnEvent;
  ev.tsNs = ts;
  ev.gapStartNs = gapStart;
  return ev;
}
