import { expect, test } from "vitest";
import { v1 } from "../../src/model/mod.js";

test("uint64 fields decode as plain numbers (not Long), so timestamps compare", () => {
  const bytes = v1.EventBatch.encode({ node: "n", firstSeq: 5, events: [{ tsNs: 123_456_789_012_345, seq: 7 }] }).finish();
  const d = v1.EventBatch.decode(bytes);
  expect(typeof d.firstSeq).toBe("number");
  expect(d.events[0]!.tsNs).toBe(123_456_789_012_345);
  expect(d.events[0]!.tsNs < 123_456_789_012_346).toBe(true);
  // defaults on the prototype too
  expect(typeof d.events[0]!.netns).toBe("number");
  expect(typeof v1.ConnEvent.create().gapStartNs).toBe("number");
});
