// The EventBatch codec's kernel times: exact bigints for any uptime, carried
// as offsets from the batch's base second. No NATS here.
import { describe, expect, test } from "vitest";
import { EventKind, v1, type ConnEventInit, type WireEventInit } from "../../src/model/mod.js";
import { MalformedMessageError, decodeBatch, encodeBatch } from "../../src/transport/mod.js";
import { makeEvents } from "./helpers.js";

const origin = { node: "node-k", bootId: "b", agentStartUs: 7 };
const TWO_53 = 1n << 53n;

/** makeEvents with every kernel time moved to start at `start` and 1 ns apart. */
function eventsAt(start: bigint, n = 5): ConnEventInit[] {
  return makeEvents(n).map((e, i) => ({ ...e, tsNs: start + BigInt(i) }));
}

describe("EventBatch kernel times", () => {
  test.each([
    ["just above 2^53", TWO_53 + 1n],
    ["around 9.1e18", 9_100_000_000_999_999_998n],
    ["a young machine", 1_234_567_890n],
  ])("%s: 1 ns apart, exactly as sent", (_name, start) => {
    const sent = eventsAt(start);
    const got = decodeBatch(encodeBatch(origin, sent)).events;
    expect(got.map((e) => e.tsNs)).toEqual(sent.map((e) => e.tsNs));
    expect(got.every((e) => e.gapStartNs === 0n)).toBe(true);
  });

  test("a GAP's start survives, also before the base second and past 2^53", () => {
    const ts = 9_100_000_000_000_000_500n;
    const gap: ConnEventInit = { seq: 2, kind: EventKind.EVENT_KIND_GAP, tsNs: ts, lost: 3, gapReason: "x", gapStartNs: ts - 5_000_000_001n };
    const [first] = eventsAt(ts - 10n, 1);
    const got = decodeBatch(encodeBatch(origin, [first!, gap])).events;
    expect(got[1]!.tsNs).toBe(ts);
    expect(got[1]!.gapStartNs).toBe(ts - 5_000_000_001n);
  });

  test("an event released late (before the first) still decodes exactly", () => {
    const sent = eventsAt(TWO_53 + 1_000_000_000n, 3);
    sent[2]!.tsNs = TWO_53 - 7n; // the agent releases a late event after later ones
    const got = decodeBatch(encodeBatch(origin, sent)).events;
    expect(got.map((e) => e.tsNs)).toEqual(sent.map((e) => e.tsNs));
  });

  test("a batch costs the same bytes at any uptime (offsets, not absolute ns)", () => {
    const young = encodeBatch(origin, eventsAt(1_000_000_000n, 50)).length;
    const old = encodeBatch(origin, eventsAt(9_100_000_000_000_000_000n, 50)).length;
    // base_s itself is a few bytes longer; the 50 events are not.
    expect(old - young).toBeLessThanOrEqual(5);
  });

  test("the caller's events are not changed by encoding", () => {
    const sent = eventsAt(TWO_53 + 3n, 2);
    const before = structuredClone(sent);
    encodeBatch(origin, sent);
    expect(sent).toEqual(before);
  });

  // Hand-made wire messages: what a broken or hostile publisher could send.
  const raw = (baseS: number, events: WireEventInit[]): Uint8Array =>
    v1.EventBatch.encode({ node: "n", firstSeq: 1, baseS, events: events.map((e, i) => ({ seq: i + 1, kind: 1, ...e })) }).finish();

  test.each([
    ["an offset protobufjs cannot read exactly", raw(0, [{ tsOffsetNs: 2 ** 60 }])],
    ["a base second beyond a u64 clock", raw(18_446_744_074, [{ tsOffsetNs: 1 }])],
    ["an instant past u64 max", raw(18_446_744_073, [{ tsOffsetNs: 2 ** 52 }])],
    ["a gap starting before boot", raw(1, [{ tsOffsetNs: 1, kind: EventKind.EVENT_KIND_GAP, gapStartOffsetNs: -1_000_000_001 }])],
  ])("rejects %s", (_name, bytes) => {
    expect(() => decodeBatch(bytes)).toThrow(MalformedMessageError);
  });

  test("an old message with absolute ts_ns (field 3) is not read as an offset", () => {
    // Field 3 (the old ts_ns), varint 5: now reserved, skipped as unknown.
    const oldEvent = Uint8Array.of(0x08, 0x01, 0x10, 0x01, 0x18, 0x05);
    const msg = v1.ConnEvent.decode(oldEvent);
    expect(msg.tsOffsetNs).toBe(0);
  });
});
