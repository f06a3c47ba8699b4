// The one time grammar: durations, RFC 3339 times (calendar-checked), now and
// µs since the epoch, with one error type that names the option.
import { describe, expect, it } from "vitest";
import { isInvalidArgumentError } from "../../src/errors/mod.js";
import {
  InvalidTimeError,
  daysInMonth,
  durationUs,
  formatDurationMs,
  isInvalidTimeError,
  parseDurationMs,
  parseTime,
  parseTimeUs,
} from "../../src/timefmt/mod.js";

const NOW_US = Date.UTC(2026, 10, 21, 10, 0, 0) * 1_000;
const at = (text: string): number => parseTimeUs(text, { option: "--since", nowUs: NOW_US });
const errorOf = (fn: () => unknown): InvalidTimeError => {
  try {
    fn();
  } catch (e) {
    if (isInvalidTimeError(e)) return e;
    throw e;
  }
  throw new Error("expected an InvalidTimeError");
};

describe("durations", () => {
  it.each([
    ["90s", 90e6],
    ["5m", 300e6],
    ["1h30m", 5_400e6],
    ["2d", 172_800e6],
    ["250ms", 250e3],
    ["1.5h", 5_400e6],
    ["1d2h3m4s5ms6us", 86_400e6 + 7_200e6 + 180e6 + 4e6 + 5e3 + 6],
    ["750µs", 750],
    ["0s", 0],
    [" 5m ", 300e6],
  ])("%j is %d µs", (text, us) => {
    expect(durationUs(text)).toBe(us);
    expect(at(text)).toBe(NOW_US - us);
  });

  it.each(["", "5", "m5", "5 m", "5 minutes", "-5m", "+5m", "5M", "1h 30m", "30m1h", "5m5m", "1.h", ".5h", "5ns", "5mm"])(
    "%j is no duration",
    (text) => {
      expect(durationUs(text)).toBeUndefined();
      expect(errorOf(() => parseDurationMs(text, "rate.window")).message).toMatch(/^rate\.window must be a duration like/);
    },
  );

  it.each([1, 999, 1_000, 60_000, 61_000, 5_400_000, 90_061_000, 172_800_000, 3_600_000])("prints %d ms so it parses back", (ms) => {
    expect(parseDurationMs(formatDurationMs(ms), "x")).toBe(ms);
  });

  it("prints windows the way rules are written", () => {
    expect([60_000, 90_000, 5_400_000, 500].map(formatDurationMs)).toEqual(["60s", "1m30s", "1h30m", "500ms"]);
  });
});

describe("RFC 3339 times", () => {
  it.each([
    ["2026-11-21T10:00:00Z", Date.UTC(2026, 10, 21, 10) * 1e3],
    ["2026-11-21t10:00:00z", Date.UTC(2026, 10, 21, 10) * 1e3],
    ["2026-11-21 10:00:00Z", Date.UTC(2026, 10, 21, 10) * 1e3],
    ["2026-11-21T10:00:00.25Z", Date.UTC(2026, 10, 21, 10) * 1e3 + 250_000],
    ["2026-11-21T10:00:00.123456789Z", Date.UTC(2026, 10, 21, 10) * 1e3 + 123_456],
    ["2026-11-21T12:30:00+02:30", Date.UTC(2026, 10, 21, 10) * 1e3],
    ["2026-11-21T05:00:00-05:00", Date.UTC(2026, 10, 21, 10) * 1e3],
    ["2026-01-01T00:30:00+01:00", Date.UTC(2025, 11, 31, 23, 30) * 1e3],
    ["2024-02-29T00:00:00Z", Date.UTC(2024, 1, 29) * 1e3],
    ["2000-02-29T00:00:00Z", Date.UTC(2000, 1, 29) * 1e3],
    ["2026-12-31T23:59:59Z", Date.UTC(2026, 11, 31, 23, 59, 59) * 1e3],
    // Date.UTC would read year 99 as 1999: 0001-01-01 is -62135596800 s, plus 35945 days.
    ["0099-06-01T00:00:00Z", (-62_135_596_800 + 35_945 * 86_400) * 1e6],
  ])("%s", (text, us) => {
    expect(at(text)).toBe(us);
  });

  it.each([
    ["2026-02-31T00:00:00Z", "February 2026 has 28 days"],
    ["2026-02-29T00:00:00Z", "February 2026 has 28 days"],
    ["1900-02-29T00:00:00Z", "February 1900 has 28 days"],
    ["2026-04-31T00:00:00Z", "April 2026 has 30 days"],
    ["2026-13-01T00:00:00Z", "there is no month 13"],
    ["2026-00-10T00:00:00Z", "there is no month 0"],
    ["2026-11-00T00:00:00Z", "November 2026 has 30 days"],
    ["2026-11-21T24:00:00Z", "24:00:00 is not a time of day"],
    ["2026-11-21T10:60:00Z", "10:60:00 is not a time of day"],
    ["2026-11-21T23:59:60Z", "23:59:60 is not a time of day"],
    ["2026-11-21T10:00:00+24:00", "+24:00 is not a UTC offset"],
  ])("%s is rejected: %s", (text, problem) => {
    const e = errorOf(() => at(text));
    expect(e.problem).toBe(problem);
    expect(e.message).toContain(problem);
    expect(e.property).toBe("--since");
  });

  it("knows leap years", () => {
    expect([1900, 2000, 2023, 2024, 2100].map((y) => daysInMonth(y, 2))).toEqual([28, 29, 28, 29, 28]);
  });
});

describe("time points", () => {
  it("reads now and µs since the epoch (what start_us shows)", () => {
    expect(at("now")).toBe(NOW_US);
    expect(at("1714557600000000")).toBe(1_714_557_600_000_000);
    expect(parseTime("1h30m", { option: "--since", nowUs: NOW_US }).getTime()).toBe(NOW_US / 1e3 - 5_400_000);
  });

  it.each(["", "yesterday", "2026-11-21", "2026-11-21T10:00:00", "2026-11-21T10:00Z", "Nov 21 2026", "123456789012345678", "now-5m", "1e6"])(
    "rejects %j naming the option",
    (text) => {
      const e = errorOf(() => parseTimeUs(text, { option: "until", nowUs: NOW_US }));
      expect(e).toBeInstanceOf(InvalidTimeError);
      expect(e.code).toBe("ERR_TIMEFMT_INVALID_TIME");
      expect(isInvalidArgumentError(e) && e.property).toBe("until");
      expect(e.message).toMatch(/^until must be a duration like 5m, 1h30m or 2d \(that long ago\), an RFC 3339 time/);
      expect(e.value).toBe(text);
    },
  );
});

