import { describe, expect, it } from "vitest";
import { benchPublish } from "../../bench/publish-bench.js";
import { makeEvents } from "./helpers.js";

describe("benchPublish", () => {
  it("publishes every event and reports a rate", async () => {
    const r = await benchPublish(makeEvents(200_000));
    console.log(`publish bench: ${r.eventsPerSec} events/s in ${r.batches} batches`);
    // 200 full batches, plus a partial one if a cut found the queue short after maxBatchDelayMs.
    expect(r.batches).toBeGreaterThanOrEqual(200);
    expect(r.batches).toBeLessThanOrEqual(205);
    expect(r.eventsPerSec).toBeGreaterThan(10_000);
  });
});
