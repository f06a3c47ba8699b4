// A trace an agent gap overlapped says so in its JSON (issue 12 part 2): the
// gaps' span and counts, so an API user knows events may be missing; null
// on every other trace.
import { describe, expect, it } from "vitest";
import { v1 } from "../../src/model/mod.js";
import { traceToJson } from "../../src/query/mod.js";
import { meshTrace } from "../store/fixtures.js";

const START = 1_714_557_600_000_000;

describe("gap_overlap in the trace JSON", () => {
  it("carries the gaps' span, lost count and estimate; null without a gap", () => {
    const t = v1.Trace.fromObject({
      ...v1.Trace.toObject(v1.Trace.fromObject(meshTrace({ id: "gap", startUs: START }))),
      gapOverlap: { gaps: 2, startUs: START + 1_000, endUs: START + 2_500_000, lost: 17, estimatedLost: 1234 },
    });
    const j = traceToJson(t);
    expect(j.gap_overlap).toEqual({
      gaps: 2,
      start: "2024-05-01T10:00:00.001000Z",
      end: "2024-05-01T10:00:02.500000Z",
      start_us: START + 1_000,
      end_us: START + 2_500_000,
      lost: 17,
      estimated_lost: 1234,
    });
    expect(traceToJson(meshTrace({ id: "plain", startUs: START })).gap_overlap).toBeNull();
  });
});
