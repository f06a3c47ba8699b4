import { describe, expect, test } from "vitest";
import {
  MAX_KERNEL_NS,
  baseNsOf,
  formatSocketId,
  nsBetween,
  parseKernelNs,
  parseSocketId,
  v1,
} from "../../src/model/mod.js";
import { fromOffset, offsetFrom } from "../../src/model/kernel-time.js";

// 2^53 ns is 104.2 days of uptime; 9.1e18 ns is 288 years, near the top of int64.
const JUST_ABOVE = (1n << 53n) + 1n;
const HUGE = 9_100_000_000_000_000_001n;

describe("kernel time", () => {
  test("decimal text parses exactly, beyond 2^53 and up to u64 max", () => {
    expect(parseKernelNs("9007199254740993")).toBe(JUST_ABOVE);
    // What Number() makes of it: the even neighbour, 1 ns off.
    expect(BigInt(Number("9007199254740993"))).not.toBe(JUST_ABOVE);
    expect(parseKernelNs("9100000000000000001")).toBe(HUGE);
    expect(parseKernelNs("18446744073709551615")).toBe(MAX_KERNEL_NS);
    expect(parseKernelNs("0")).toBe(0n);
  });

  test.each(["18446744073709551616", "-1", "1e3", "", " 1", "0x10", "12.5", "123456789012345678901", "١٢٣"])(
    "%j is not a kernel time",
    (s) => expect(parseKernelNs(s)).toBeNull(),
  );

  test("durations between instants come back as numbers, exact across 2^53", () => {
    expect(nsBetween(HUGE, HUGE + 1n)).toBe(1);
    expect(nsBetween(JUST_ABOVE, JUST_ABOVE - 3n)).toBe(-3);
    expect(nsBetween((1n << 53n) - 1n, JUST_ABOVE)).toBe(2);
  });

  test("socket ids keep the exact birth", () => {
    const id = formatSocketId({ node: "n/1", sock: "ffff8f0a12345600", birthNs: HUGE });
    expect(id).toBe("n/1/ffff8f0a12345600/9100000000000000001");
    expect(parseSocketId(id)).toEqual({ node: "n/1", sock: "ffff8f0a12345600", birthNs: HUGE });
    // Two sockets born 1 ns apart past 2^53 stay two sockets.
    const a = formatSocketId({ node: "n", sock: "ab", birthNs: JUST_ABOVE });
    const b = formatSocketId({ node: "n", sock: "ab", birthNs: JUST_ABOVE + 1n });
    expect(a).not.toBe(b);
    expect(parseSocketId(b)?.birthNs).toBe(JUST_ABOVE + 1n);
    expect(parseSocketId("n/ab/18446744073709551616")).toBeNull();
    expect(parseSocketId("n/ab/-5")).toBeNull();
  });

  test("wire offsets: exact within 2^53 of the base, refused beyond", () => {
    const base = baseNsOf(9_100_000_000)!;
    expect(base).toBe(9_100_000_000_000_000_000n);
    expect(offsetFrom(base, HUGE)).toBe(1);
    expect(offsetFrom(base, base - 5n)).toBe(-5);
    expect(() => offsetFrom(0n, HUGE)).toThrow(RangeError);
    expect(fromOffset(base, 1)).toBe(HUGE);
    expect(fromOffset(base, 2 ** 60)).toBeNull(); // a varint protobufjs already rounded
    expect(fromOffset(0n, -1)).toBeNull(); // before boot
    expect(fromOffset(MAX_KERNEL_NS - 1n, 2)).toBeNull(); // past u64
    expect(baseNsOf(-1)).toBeNull();
    expect(baseNsOf(2 ** 60)).toBeNull();
    expect(baseNsOf(18_446_744_074)).toBeNull(); // its ns exceed u64
  });

  test("other uint64 fields still decode as plain numbers (not Long)", () => {
    const bytes = v1.EventBatch.encode({
      node: "n",
      firstSeq: 5,
      baseS: 9_100_000_000,
      events: [{ tsOffsetNs: 7, timeUs: 1_750_000_000_000_123, seq: 7 }],
    }).finish();
    const d = v1.EventBatch.decode(bytes);
    expect(typeof d.firstSeq).toBe("number");
    expect(d.baseS).toBe(9_100_000_000);
    expect(d.events[0]!.timeUs).toBe(1_750_000_000_000_123);
    expect(typeof d.events[0]!.netns).toBe("number");
  });
});
