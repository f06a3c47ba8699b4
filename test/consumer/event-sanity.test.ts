// Events the fuzzing of the events subject (test/fuzz/event-batches.test.ts)
// found the consumer kept though no agent can produce them, each of which
// broke the store: the shrunk counterexamples, kept as regressions.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { insaneReason, saneEvents } from "../../src/consumer/mod.js";
import { EventKind, v1 } from "../../src/model/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { decodeBatch } from "../../src/transport/mod.js";
import { tempDirForAll } from "../helpers/mod.js";

const TIME_US = 1_750_000_000_000_000;
const MAX_SAFE = Number.MAX_SAFE_INTEGER;

describe("event sanity", () => {
  const tmp = tempDirForAll("event-sanity");

  it("rejects a seq past 2^53: the decoder rounds it, and the store keys events by seq", () => {
    const batch = decodeBatch(
      v1.EventBatch.encode({
        node: "n",
        firstSeq: 1,
        baseS: 1,
        events: [
          { seq: 1, kind: EventKind.EVENT_KIND_STATE_CHANGE, tsOffsetNs: 5, timeUs: TIME_US, sock: "ffff" },
          { seq: 2 ** 53, kind: EventKind.EVENT_KIND_STATE_CHANGE, tsOffsetNs: 6, timeUs: TIME_US, sock: "ffff" },
        ],
      }).finish(),
    );
    expect(batch.events.map(insaneReason)).toEqual([null, "seq"]);
    expect(saneEvents(batch.events)).toMatchObject({ rejected: 1, firstReason: "seq" });
  });

  it("rejects a gap start more than 2^53 ns from its event: storing it threw, and the consumer retried forever", async () => {
    // The fuzzer's case: both kernel times are real clocks, 2^54 ns apart.
    const far = decodeBatch(
      v1.EventBatch.encode({
        node: "n",
        firstSeq: 1,
        baseS: 20_000_000,
        events: [{ seq: 1, kind: EventKind.EVENT_KIND_GAP, tsOffsetNs: MAX_SAFE, timeUs: TIME_US, gapStartOffsetNs: -MAX_SAFE }],
      }).finish(),
    );
    expect(far.events.map(insaneReason)).toEqual(["gap_start_ns"]);

    // Just within reach is a gap the store keeps.
    const near = decodeBatch(
      v1.EventBatch.encode({
        node: "n",
        firstSeq: 1,
        baseS: 20_000_000,
        events: [{ seq: 1, kind: EventKind.EVENT_KIND_GAP, tsOffsetNs: MAX_SAFE, timeUs: TIME_US, gapStartOffsetNs: 0 }],
      }).finish(),
    );
    expect(near.events.map(insaneReason)).toEqual([null]);
    const store = new SqliteTraceStore({ path: join(tmp.path, "gap.db") });
    try {
      expect(await store.putEvents(near, near.events)).toEqual({ written: 1, duplicates: 0 });
      // What the sanity check now keeps out: this write can never succeed (another seq, so it is not a duplicate).
      far.events[0]!.seq = 2;
      await expect(store.putEvents(far, far.events)).rejects.toThrow(RangeError);
    } finally {
      store.close();
    }
  });
});
