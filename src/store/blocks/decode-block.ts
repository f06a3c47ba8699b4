// A TraceBlock message (store.proto) back into the traces encodeBlock was
// given. Each message is built the way v1.Trace.decode builds one (only
// fields that differ from their default are own properties), so a trace read
// from a block and one read from its plain protobuf look alike to every caller.
import { v1, type Trace } from "../../model/mod.js";
import type { tcptrail } from "../../gen/tcptrail.js";
import { traceId } from "../../trace/trace-id.js";
import { impliedTraceId } from "./implied-trace-id.js";
import { absoluteUs } from "./relative-time.js";
import { SocketCursor, joinSocketId, splitSocketId } from "./socket-parts.js";
import { stringAt } from "./string-dictionary.js";

// Decoded messages, typed as their properties (nested and repeated fields are).
type BlockEndpoint = tcptrail.v1.BlockEndpoint.$Properties;
type BlockHop = tcptrail.v1.BlockHop.$Properties;
type BlockTrace = tcptrail.v1.BlockTrace.$Properties;
type Hop = tcptrail.v1.Hop;
type HopEndpoint = tcptrail.v1.HopEndpoint;

/** Set the fields of `fields` that are not a default (0, "", null) on `msg`, as protobuf decoding does. */
// Values are numbers and strings of the message's own types; enums stay numbers, as a decoded enum does.
function assignSet<T extends object>(msg: T, fields: { [K in keyof T]?: number | string | boolean | null | undefined }): T {
  for (const k in fields) {
    const v = fields[k];
    if (v !== 0 && v !== "" && v !== false && v != null) (msg as Record<string, unknown>)[k] = v;
  }
  return msg;
}

class BlockDecoder {
  readonly #strings: readonly string[];
  readonly #profiles: readonly tcptrail.v1.BlockProfile.$Properties[];
  readonly #sockets: SocketCursor;

  constructor(block: tcptrail.v1.TraceBlock) {
    this.#strings = block.strings;
    this.#profiles = block.profiles;
    this.#sockets = new SocketCursor({
      sockHi: block.sockBaseHi,
      sockLo: block.sockBaseLo,
      birthHi: Number(block.birthBaseHi),
      birthLo: block.birthBaseLo,
    });
  }

  trace(b: BlockTrace, prevStartUs: number): Trace {
    const s = this.#strings;
    const startUs = absoluteUs(Number(b.startUs ?? 0), prevStartUs);
    const hops = (b.hops ?? []).map((h) => this.#hop(h, startUs));
    const t = assignSet(new v1.Trace(), {
      outcome: b.outcome,
      resetOriginHop: b.resetOriginHop,
      explanation: stringAt(s, b.explanation),
      startUs,
      endUs: absoluteUs(Number(b.endUs ?? 0), startUs),
      firstCloseHop: b.firstCloseHop,
      firstCloseBy: stringAt(s, b.firstCloseBy),
    });
    if (hops.length > 0) t.hops = hops;
    if (b.race) {
      t.race = assignSet(new v1.IdleCloseRace(), {
        idleUs: Number(b.race.idleUs ?? 0),
        gapUs: Number(b.race.gapUs ?? 0),
        resetReason: b.race.resetReason,
        sharedHop: b.race.sharedHop,
        firstCloseHop: b.race.firstCloseHop,
        firstCloseBy: stringAt(s, b.race.firstCloseBy),
      });
    }
    if (b.gapOverlap) {
      t.gapOverlap = assignSet(new v1.GapOverlap(), {
        gaps: b.gapOverlap.gaps,
        startUs: absoluteUs(Number(b.gapOverlap.startUs ?? 0), startUs),
        endUs: absoluteUs(Number(b.gapOverlap.endUs ?? 0), startUs),
        lost: Number(b.gapOverlap.lost ?? 0),
        estimatedLost: Number(b.gapOverlap.estimatedLost ?? 0),
      });
    }
    if (b.resetOriginRef) t.resetOrigin = this.#copyOfHopEndpoint(hops, b.resetOriginRef);
    else if (b.resetOrigin) t.resetOrigin = this.#endpoint(b.resetOrigin);
    if (b.resetReceiverRef) t.resetReceiver = this.#copyOfHopEndpoint(hops, b.resetReceiverRef);
    else if (b.resetReceiver) t.resetReceiver = this.#endpoint(b.resetReceiver);
    const id = b.traceId || impliedTraceId(t) || "";
    if (id) t.traceId = id;
    return t;
  }

  /**
   * Step over a trace without building it: the socket cursor moves exactly
   * as trace() would move it, and nothing else is made. Returns its start.
   */
  skip(b: BlockTrace, prevStartUs: number): number {
    for (const h of b.hops ?? []) {
      if (h.client) this.#stepSocket(h.client);
      if (h.server) this.#stepSocket(h.server);
    }
    if (!b.resetOriginRef && b.resetOrigin) this.#stepSocket(b.resetOrigin);
    if (!b.resetReceiverRef && b.resetReceiver) this.#stepSocket(b.resetReceiver);
    return absoluteUs(Number(b.startUs ?? 0), prevStartUs);
  }

  /** The trace's id without building the trace (its root socket is the first socket it names, so the cursor is where trace() would read it). */
  idOf(b: BlockTrace): string {
    if (b.traceId) return b.traceId;
    const first = b.hops?.[0];
    const root = (first?.client && this.#peekSocketId(first.client)) || (first?.server && this.#peekSocketId(first.server)) || "";
    return root ? traceId(root) : "";
  }

  #peekSocketId(b: BlockEndpoint): string {
    if (b.socketNode) {
      const node = stringAt(this.#strings, b.socketNode - 1);
      return joinSocketId(this.#sockets.peek(node, { sock: Number(b.sockDelta ?? 0), birth: Number(b.birthDelta ?? 0) }));
    }
    return b.socketRaw ?? "";
  }

  #stepSocket(b: BlockEndpoint): void {
    if (b.socketNode) {
      this.#sockets.partsAt(stringAt(this.#strings, b.socketNode - 1), { sock: Number(b.sockDelta ?? 0), birth: Number(b.birthDelta ?? 0) });
    } else if (b.socketRaw) {
      const parts = splitSocketId(b.socketRaw);
      if (parts) this.#sockets.moveTo(parts);
    }
  }

  #hop(b: BlockHop, traceStartUs: number): Hop {
    const s = this.#strings;
    const h = assignSet(new v1.Hop(), {
      index: b.index,
      openedBy: stringAt(s, b.openedBy),
      firstFinBy: stringAt(s, b.firstFinBy),
      resetBy: stringAt(s, b.resetBy),
      resetReason: b.resetReason,
      outcome: b.outcome,
      startUs: absoluteUs(Number(b.startUs ?? 0), traceStartUs),
      endUs: absoluteUs(Number(b.endUs ?? 0), traceStartUs),
      link: stringAt(s, b.link),
      attempt: b.attempt,
      attempts: b.attempts,
      shared: b.shared,
      useStartUs: absoluteUs(Number(b.useStartUs ?? 0), traceStartUs),
      useEndUs: absoluteUs(Number(b.useEndUs ?? 0), traceStartUs),
      linkConfidence: b.linkConfidence,
      // 0 in blocks sealed before step times were recorded: "not recorded", as the Hop says.
      openedUs: absoluteUs(Number(b.openedUs ?? 0), traceStartUs),
      firstFinUs: absoluteUs(Number(b.firstFinUs ?? 0), traceStartUs),
      resetUs: absoluteUs(Number(b.resetUs ?? 0), traceStartUs),
    });
    if (b.client) h.client = this.#endpoint(b.client);
    if (b.server) h.server = this.#endpoint(b.server);
    if (b.originalDestination) {
      h.originalDestination = assignSet(new v1.Endpoint(), {
        ip: stringAt(s, b.originalDestination.ip),
        port: b.originalDestination.port,
      });
    }
    return h;
  }

  /** A separate copy, as a decoded message would hold: callers may change one without the other. */
  #copyOfHopEndpoint(hops: Hop[], ref: number): HopEndpoint | null {
    const h = hops[(ref - 1) >> 1];
    const e = (ref - 1) % 2 === 0 ? h?.client : h?.server;
    return e ? Object.assign(new v1.HopEndpoint(), e) : null;
  }

  #endpoint(b: BlockEndpoint): HopEndpoint {
    const s = this.#strings;
    const p = this.#profiles[b.profile ?? 0];
    let socketId = "";
    if (b.socketNode) {
      const node = stringAt(s, b.socketNode - 1);
      socketId = joinSocketId(this.#sockets.partsAt(node, { sock: Number(b.sockDelta ?? 0), birth: Number(b.birthDelta ?? 0) }));
    } else if (b.socketRaw) {
      socketId = b.socketRaw;
      // The writer moved its cursor to a verbatim id that splits: so does the reader.
      const parts = splitSocketId(socketId);
      if (parts) this.#sockets.moveTo(parts);
    }
    const end = assignSet(new v1.HopEndpoint(), {
      ip: stringAt(s, p?.ip),
      port: b.port,
      pod: stringAt(s, p?.pod),
      netns: Number(p?.netns ?? 0),
      role: p?.role ?? 0,
      leg: p?.leg ?? 0,
      pid: p?.pid ?? 0,
      comm: stringAt(s, p?.comm),
      uid: p?.uid ?? 0,
      node: stringAt(s, p?.node),
      socketId,
    });
    // Set only when there are labels: the message's default is its shared empty map.
    if (p?.labels != null && p.labels.length > 0) end.labels = labelsAt(s, p.labels);
    return end;
  }
}

/** A profile's labels (key and value string indexes, in pairs) as the map they were. */
function labelsAt(strings: readonly string[], pairs: readonly number[] | null | undefined): { [k: string]: string } {
  const out: { [k: string]: string } = {};
  if (pairs == null) return out;
  for (let i = 0; i + 1 < pairs.length; i += 2) {
    out[stringAt(strings, pairs[i])] = stringAt(strings, pairs[i + 1]);
  }
  return out;
}

/** The traces of an encodeBlock output, in its order. */
export function decodeBlock(bytes: Uint8Array): Trace[] {
  const block = v1.TraceBlock.decode(bytes);
  const dec = new BlockDecoder(block);
  let prevStartUs = Number(block.baseUs);
  return block.traces.map((b) => {
    const t = dec.trace(b, prevStartUs);
    prevStartUs = Number(t.startUs);
    return t;
  });
}

/**
 * The one trace with this id in an encodeBlock output, and its position,
 * building no other trace: what a point read needs, at a fraction of
 * decodeBlock's cost (ids are derived, so each is hashed until one matches).
 */
export function findInBlock(bytes: Uint8Array, traceId: string): { index: number; trace: Trace } | null {
  const block = v1.TraceBlock.decode(bytes);
  const dec = new BlockDecoder(block);
  let prevStartUs = Number(block.baseUs);
  for (let i = 0; i < block.traces.length; i++) {
    const b = block.traces[i]!;
    if (dec.idOf(b) === traceId) return { index: i, trace: dec.trace(b, prevStartUs) };
    prevStartUs = dec.skip(b, prevStartUs);
  }
  return null;
}
