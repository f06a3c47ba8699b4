// The soak's printout says what a reader checks first: whether the first
// trace survived, and how close the file came to the defaults' limit.
import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_BYTES } from "../../src/store/mod.js";
import { DEFAULT_EVENTS_MAX_BYTES } from "../../src/store/sqlite/options.js";
import { formatSoak } from "../../bench/store-report.js";
import type { SoakResult } from "../../bench/store-soak.js";

const MiB = 2 ** 20;

function result(o: Partial<SoakResult> = {}): SoakResult {
  const sizes = Array.from({ length: 61 }, (_, i) => ({ atS: i * 10, bytes: (i + 1) * MiB }));
  return {
    options: { minutes: 10, rate: 1000 },
    bpftrace: "/usr/bin/bpftrace (v0.23.2)",
    firstTrace: { id: "abc", afterS: 1.5 },
    firstStillQueryable: true,
    sizes: [...sizes, { atS: 600, bytes: 40 * MiB, afterStop: true }],
    maxBytes: 61 * MiB,
    limitBytes: DEFAULT_MAX_BYTES + DEFAULT_EVENTS_MAX_BYTES,
    stats: {
      traces: 600_000,
      events: 7_200_000,
      bytes: 0,
      fileBytes: 60_000_000,
      kinds: { traces: { count: 600_000, bytes: 27_000_000, oldestUs: 1 }, events: { count: 7_200_000, bytes: 972_000_000, oldestUs: 1 } },
    },
    ...o,
  };
}

describe("formatSoak", () => {
  it("says whether the first trace is still queryable", () => {
    expect(formatSoak(result()).join("\n")).toMatch(/first trace +abc, listed 1\.5 s after the churn started; at the end: still queryable/);
    expect(formatSoak(result({ firstStillQueryable: false })).join("\n")).toMatch(/at the end: GONE/);
    expect(formatSoak(result({ firstTrace: undefined })).join("\n")).toMatch(/none listed/);
  });

  it("gives bytes per connection from the store's stats, and the largest file size against the defaults' limit", () => {
    const text = formatSoak(result()).join("\n");
    expect(text).toContain("600,000 traces: 45.0 B/connection");
    expect(text).toContain("(135.0 B/event)");
    expect(text).toContain(`max 61.0 MiB of the limits' ${((DEFAULT_MAX_BYTES + DEFAULT_EVENTS_MAX_BYTES) / MiB).toFixed(1)} MiB`);
  });

  it("prints a bounded curve that ends with the size after run stopped", () => {
    const lines = formatSoak(result(), 12).filter((l) => /^\s+\d+ s /.test(l));
    expect(lines.length).toBeLessThanOrEqual(13);
    expect(lines[0]).toMatch(/^\s+0 s +1\.0 MiB$/);
    expect(lines.at(-1)).toMatch(/600 s +40\.0 MiB +\(after run stopped\)$/);
  });
});
