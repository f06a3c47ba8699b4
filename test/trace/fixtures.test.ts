// The JSON fixtures under test/trace/fixtures/ are generated from the lab model
// in helpers/scenarios.ts; this test keeps them in sync (set
// TCPTRAIL_UPDATE_FIXTURES=1 to rewrite them) and checks the loader.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { EventKind, ResetReason, TcpState } from "../../src/model/mod.js";
import { parseFixture } from "./helpers/load-fixture.js";
import { SCENARIOS } from "./helpers/scenarios.js";

const dir = join(import.meta.dirname, "fixtures");

describe("fixtures", () => {
  for (const [name, make] of Object.entries(SCENARIOS)) {
    it(`${name}.json matches the lab model`, () => {
      const file = join(dir, `${name}.json`);
      const json = JSON.stringify(make(), null, 1) + "\n";
      if (process.env.TCPTRAIL_UPDATE_FIXTURES === "1" || !existsSync(file)) writeFileSync(file, json);
      expect(readFileSync(file, "utf8")).toBe(json);
    });
  }

  it("loads enum names (short or full) and numbers alike", () => {
    const [a, b] = parseFixture(
      JSON.stringify([
        { node: "n", event: { kind: "STATE_CHANGE", oldState: "CLOSE", newState: "TCP_STATE_SYN_SENT", tsNs: "123" } },
        { node: "n", event: { kind: 2, reset_reason: "NO_SOCKET", ts_ns: 124, netns: 4026532301 } },
      ]),
    );
    expect(a!.event.kind).toBe(EventKind.EVENT_KIND_STATE_CHANGE);
    expect(a!.event.oldState).toBe(TcpState.TCP_STATE_CLOSE);
    expect(a!.event.newState).toBe(TcpState.TCP_STATE_SYN_SENT);
    expect(a!.event.tsNs).toBe(123n);
    expect(b!.event.tsNs).toBe(124n);
    expect(b!.event.kind).toBe(EventKind.EVENT_KIND_RESET_SENT);
    expect(b!.event.resetReason).toBe(ResetReason.RESET_REASON_NO_SOCKET);
    expect(b!.event.netns).toBe(4026532301);
  });

  it("rejects records that are not { node, event }", () => {
    expect(() => parseFixture(JSON.stringify([{ event: {} }]))).toThrow(/record 0/);
    expect(() => parseFixture("{}")).toThrow(/array/);
  });
});
