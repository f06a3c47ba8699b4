// Traces into one TraceBlock message (store.proto), before compression. Each
// repeated value is said once (strings, endpoint profiles), times and socket
// ids become small deltas, and the derived trace id is left out; decodeBlock
// is the exact inverse.
import { v1, type HopEndpoint, type TraceInit } from "../../model/mod.js";
import type { tcptrail } from "../../gen/tcptrail.js";
import { impliedTraceId } from "./implied-trace-id.js";
import { relativeUs } from "./relative-time.js";
import { SocketCursor, splitSocketId, type SocketParts } from "./socket-parts.js";
import { StringDictionary } from "./string-dictionary.js";

type BlockEndpoint = tcptrail.v1.BlockEndpoint.$Properties;
type BlockHop = tcptrail.v1.BlockHop.$Properties;
type BlockTrace = tcptrail.v1.BlockTrace.$Properties;
type BlockProfile = tcptrail.v1.BlockProfile.$Properties;
type HopInit = tcptrail.v1.Hop.$Properties;

/** Do two endpoints read the same (unset fields are their defaults)? */
export function sameEndpoint(a: HopEndpoint, b: HopEndpoint): boolean {
  return (
    (a.ip ?? "") === (b.ip ?? "") &&
    (a.port ?? 0) === (b.port ?? 0) &&
    (a.pod ?? "") === (b.pod ?? "") &&
    Number(a.netns ?? 0) === Number(b.netns ?? 0) &&
    (a.role ?? 0) === (b.role ?? 0) &&
    (a.leg ?? 0) === (b.leg ?? 0) &&
    (a.pid ?? 0) === (b.pid ?? 0) &&
    (a.comm ?? "") === (b.comm ?? "") &&
    (a.uid ?? 0) === (b.uid ?? 0) &&
    (a.node ?? "") === (b.node ?? "") &&
    (a.socketId ?? "") === (b.socketId ?? "") &&
    sameLabels(a.labels, b.labels)
  );
}

/** The first socket id of the traces that splits, as the block's delta base. */
function firstSocket(traces: readonly TraceInit[]): SocketParts | null {
  for (const t of traces) {
    for (const h of t.hops ?? []) {
      for (const e of [h.client, h.server]) {
        const p = e?.socketId ? splitSocketId(e.socketId) : null;
        if (p) return p;
      }
    }
  }
  return null;
}

class BlockEncoder {
  readonly strings = new StringDictionary();
  readonly profiles: BlockProfile[] = [];
  readonly #profileIndex = new Map<number, number[]>();
  readonly #sockets: SocketCursor;

  constructor(base: SocketParts | null) {
    this.#sockets = new SocketCursor(base ?? { sockHi: 0, sockLo: 0, birthHi: 0, birthLo: 0 });
  }

  trace(t: TraceInit, prevStartUs: number): BlockTrace {
    const startUs = Number(t.startUs ?? 0);
    const hops = (t.hops ?? []).map((h) => this.#hop(h, startUs));
    const out: BlockTrace = {
      outcome: t.outcome ?? 0,
      hops,
      resetOriginHop: t.resetOriginHop ?? 0,
      explanation: this.strings.of(t.explanation),
      startUs: relativeUs(startUs, prevStartUs),
      endUs: relativeUs(Number(t.endUs ?? 0), startUs),
      firstCloseHop: t.firstCloseHop ?? 0,
      firstCloseBy: this.strings.of(t.firstCloseBy),
    };
    if (t.race) {
      out.race = {
        idleUs: Number(t.race.idleUs ?? 0),
        gapUs: Number(t.race.gapUs ?? 0),
        resetReason: t.race.resetReason ?? 0,
        sharedHop: t.race.sharedHop ?? 0,
        firstCloseHop: t.race.firstCloseHop ?? 0,
        firstCloseBy: this.strings.of(t.race.firstCloseBy),
      };
    }
    if (t.gapOverlap) {
      out.gapOverlap = {
        gaps: t.gapOverlap.gaps ?? 0,
        startUs: relativeUs(Number(t.gapOverlap.startUs ?? 0), startUs),
        endUs: relativeUs(Number(t.gapOverlap.endUs ?? 0), startUs),
        lost: Number(t.gapOverlap.lost ?? 0),
        estimatedLost: Number(t.gapOverlap.estimatedLost ?? 0),
      };
    }
    const id = t.traceId ?? "";
    if (id !== impliedTraceId(t)) out.traceId = id;
    // After the hops, so that sockets are walked in the order the reader walks them.
    if (t.resetOrigin) {
      const ref = this.#hopEndpointRef(t, t.resetOrigin);
      if (ref) out.resetOriginRef = ref;
      else out.resetOrigin = this.#endpoint(t.resetOrigin);
    }
    if (t.resetReceiver) {
      const ref = this.#hopEndpointRef(t, t.resetReceiver);
      if (ref) out.resetReceiverRef = ref;
      else out.resetReceiver = this.#endpoint(t.resetReceiver);
    }
    return out;
  }

  #hop(h: HopInit, traceStartUs: number): BlockHop {
    const out: BlockHop = {
      index: h.index ?? 0,
      openedBy: this.strings.of(h.openedBy),
      firstFinBy: this.strings.of(h.firstFinBy),
      resetBy: this.strings.of(h.resetBy),
      resetReason: h.resetReason ?? 0,
      outcome: h.outcome ?? 0,
      startUs: relativeUs(Number(h.startUs ?? 0), traceStartUs),
      endUs: relativeUs(Number(h.endUs ?? 0), traceStartUs),
      link: this.strings.of(h.link),
      attempt: h.attempt ?? 0,
      attempts: h.attempts ?? 0,
      shared: h.shared ?? false,
      useStartUs: relativeUs(Number(h.useStartUs ?? 0), traceStartUs),
      useEndUs: relativeUs(Number(h.useEndUs ?? 0), traceStartUs),
      linkConfidence: h.linkConfidence ?? 0,
      openedUs: relativeUs(Number(h.openedUs ?? 0), traceStartUs),
      firstFinUs: relativeUs(Number(h.firstFinUs ?? 0), traceStartUs),
      resetUs: relativeUs(Number(h.resetUs ?? 0), traceStartUs),
    };
    if (h.client) out.client = this.#endpoint(h.client);
    if (h.server) out.server = this.#endpoint(h.server);
    if (h.originalDestination) {
      out.originalDestination = { ip: this.strings.of(h.originalDestination.ip), port: h.originalDestination.port ?? 0 };
    }
    return out;
  }

  /** 1 + 2·hop position (+1 for the server) of a hop endpoint equal to `e`, or 0. */
  #hopEndpointRef(t: TraceInit, e: HopEndpoint): number {
    const hops = t.hops ?? [];
    for (let i = 0; i < hops.length; i++) {
      const h = hops[i]!;
      if (h.client && sameEndpoint(h.client, e)) return 1 + 2 * i;
      if (h.server && sameEndpoint(h.server, e)) return 2 + 2 * i;
    }
    return 0;
  }

  #endpoint(e: HopEndpoint): BlockEndpoint {
    const out: BlockEndpoint = { profile: this.#profile(e), port: e.port ?? 0 };
    const id = e.socketId ?? "";
    if (id) {
      const parts = splitSocketId(id);
      const d = parts ? this.#sockets.deltaOf(parts) : null;
      if (parts && d) {
        out.socketNode = 1 + this.strings.of(parts.node);
        out.sockDelta = d.sock;
        out.birthDelta = d.birth;
      } else {
        out.socketRaw = id;
      }
    }
    return out;
  }

  #profile(e: HopEndpoint): number {
    const ip = this.strings.of(e.ip);
    const pod = this.strings.of(e.pod);
    const netns = Number(e.netns ?? 0);
    const role = e.role ?? 0;
    const leg = e.leg ?? 0;
    const pid = e.pid ?? 0;
    const comm = this.strings.of(e.comm);
    const uid = e.uid ?? 0;
    const node = this.strings.of(e.node);
    const labels = this.#labels(e.labels);
    // Looked up by a hash of the fields, then compared: a string key per
    // endpoint was a fifth of the sealing time.
    let h = Math.imul(ip, 0x9e3779b1) ^ Math.imul(pod, 0x85ebca6b) ^ Math.imul(comm, 0xc2b2ae35) ^ Math.imul(node, 0x27d4eb2f);
    h = Math.imul(h ^ pid, 0x165667b1) ^ Math.imul(uid + 1, 0x9e3779b1) ^ (netns >>> 0) ^ Math.imul(role * 8 + leg + 1, 0x85ebca6b);
    for (let i = 0; i < labels.length; i++) h = Math.imul(h ^ labels[i]!, 0x27d4eb2f);
    const candidates = this.#profileIndex.get(h);
    if (candidates) {
      for (const i of candidates) {
        const p = this.profiles[i]!;
        if (
          p.ip === ip &&
          p.pod === pod &&
          p.netns === netns &&
          p.role === role &&
          p.leg === leg &&
          p.pid === pid &&
          p.comm === comm &&
          p.uid === uid &&
          p.node === node &&
          sameIndexes(p.labels!, labels)
        ) {
          return i;
        }
      }
    }
    const i = this.profiles.length;
    this.profiles.push({ ip, pod, netns, role, leg, pid, comm, uid, node, labels });
    if (candidates) candidates.push(i);
    else this.#profileIndex.set(h, [i]);
    return i;
  }

  /** Labels as dictionary indexes, key then value, sorted by key (one order for equal label sets). */
  #labels(labels: { [k: string]: string } | null | undefined): number[] {
    if (labels == null) return NO_LABELS;
    const keys = Object.keys(labels);
    if (keys.length === 0) return NO_LABELS;
    keys.sort();
    const out: number[] = new Array<number>(keys.length * 2);
    for (let i = 0; i < keys.length; i++) {
      out[2 * i] = this.strings.of(keys[i]!);
      out[2 * i + 1] = this.strings.of(labels[keys[i]!]!);
    }
    return out;
  }
}

function sameLabels(a: { [k: string]: string } | null | undefined, b: { [k: string]: string } | null | undefined): boolean {
  const ka = a == null ? [] : Object.keys(a);
  const kb = b == null ? [] : Object.keys(b);
  if (ka.length !== kb.length) return false;
  for (const k of ka) if (b![k] !== a![k]) return false;
  return true;
}

// Shared by every unlabelled profile: never written to.
const NO_LABELS: number[] = [];

function sameIndexes(a: readonly number[], b: readonly number[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The TraceBlock encoding of `traces`, in this order (the store sorts them by
 * start time first: start deltas stay small and positive).
 */
export function encodeBlock(traces: readonly TraceInit[]): Uint8Array {
  const base = firstSocket(traces);
  const enc = new BlockEncoder(base);
  const baseUs = Number(traces[0]?.startUs ?? 0);
  let prevStartUs = baseUs;
  const out: BlockTrace[] = [];
  for (const t of traces) {
    out.push(enc.trace(t, prevStartUs));
    prevStartUs = Number(t.startUs ?? 0);
  }
  return v1.TraceBlock.encode({
    strings: enc.strings.strings,
    profiles: enc.profiles,
    baseUs,
    sockBaseHi: base?.sockHi ?? 0,
    sockBaseLo: base?.sockLo ?? 0,
    birthBaseHi: base?.birthHi ?? 0,
    birthBaseLo: base?.birthLo ?? 0,
    traces: out,
  }).finish();
}
