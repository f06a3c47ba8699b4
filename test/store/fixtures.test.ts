// The store fixtures mean what the conformance suite's timeline cases rely on.
import { describe, expect, it } from "vitest";
import { Outcome, ResetReason } from "../../src/model/mod.js";
import { meshTrace } from "./fixtures.js";

describe("outcome fixtures", () => {
  it("meshTrace resets on hop 3 by the server with TCP_ABORT_ON_CLOSE (what the rebuild test relies on)", () => {
    const h = meshTrace({ id: "x", startUs: 1 }).hops[2]!;
    expect([h.resetBy, h.resetReason, h.outcome]).toEqual(["server", ResetReason.RESET_REASON_TCP_ABORT_ON_CLOSE, Outcome.OUTCOME_RESET_BY_SERVER]);
  });
});
