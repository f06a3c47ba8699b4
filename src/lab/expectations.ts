// Check a scenario's expected FIN/RST origins against the packet ground
// truth alone (no tracer): every expectation must be on the wire, and every
// FIN/RST on the wire must be expected.
import { type WireEndpoint, type WirePacket, hasFlag } from "./ground-truth.js";
import type { ExpectedSegment, WireSelector } from "./scenarios/types.js";

export interface ExpectationCheck {
  matched: Array<{ expectation: ExpectedSegment; packets: WirePacket[] }>;
  /** Expected but absent from the wire. */
  missing: ExpectedSegment[];
  /** FIN/RST segments on the wire that no expectation explains. */
  unexplained: WirePacket[];
}

const endpointMatches = (sel: Partial<WireEndpoint> | undefined, ep: WireEndpoint): boolean =>
  !sel || ((sel.ip === undefined || sel.ip === ep.ip) && (sel.port === undefined || sel.port === 0 || sel.port === ep.port));

export function selectorMatches(sel: WireSelector, p: WirePacket): boolean {
  return (sel.iface === undefined || sel.iface === p.iface) && endpointMatches(sel.src, p.src) && endpointMatches(sel.dst, p.dst);
}

/** Does `p` (a sent segment) fit expectation `e`? */
export function segmentMatches(e: ExpectedSegment, p: WirePacket): boolean {
  return p.direction === "out" && p.netns === e.fromPod && hasFlag(p, e.flag) && selectorMatches(e.wire, p);
}

export function checkExpectations(wire: readonly WirePacket[], expectations: readonly ExpectedSegment[]): ExpectationCheck {
  const closing = wire.filter((p) => hasFlag(p, "FIN") || hasFlag(p, "RST"));
  const matched = expectations.map((expectation) => ({ expectation, packets: closing.filter((p) => segmentMatches(expectation, p)) }));
  return {
    matched: matched.filter((m) => m.packets.length > 0),
    missing: matched.filter((m) => m.packets.length === 0 && !m.expectation.optional).map((m) => m.expectation),
    unexplained: closing.filter((p) => !expectations.some((e) => segmentMatches(e, p))),
  };
}
