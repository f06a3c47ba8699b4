// What a cluster needs from the transport's options: --nats as a server list
// (each URL tried, and failed over to), and one replica count for every
// stream that a stream's own setting still overrides. The failover itself is
// cluster-failover.test.ts.
import { describe, expect, it } from "vitest";
import { DEFAULT_STREAM_LIMITS, natsServers, resolveStreamLimits } from "../../src/transport/mod.js";

describe("natsServers", () => {
  it("splits a comma-separated list, trimming blanks; one URL stays one", () => {
    expect(natsServers("nats://a:4222, nats://b:4222 ,nats://c:4222")).toEqual(["nats://a:4222", "nats://b:4222", "nats://c:4222"]);
    expect(natsServers("nats://127.0.0.1:4222")).toEqual(["nats://127.0.0.1:4222"]);
    expect(natsServers("nats://a:4222,")).toEqual(["nats://a:4222"]);
  });
});

describe("stream replicas", () => {
  it("default to one per stream (a single nats-server takes no more)", () => {
    for (const key of ["events", "traces", "alerts"] as const) expect(resolveStreamLimits(key).replicas).toBe(DEFAULT_STREAM_LIMITS[key].replicas);
    expect(DEFAULT_STREAM_LIMITS.events.replicas).toBe(1);
  });

  it("apply to every stream, under a stream's own replicas and beside the events horizon", () => {
    const overrides = { replicas: 3, traces: { replicas: 5 }, eventsHorizon: { horizonMs: 60_000, eventsPerSec: 100 } };
    expect(resolveStreamLimits("events", overrides)).toMatchObject({ replicas: 3, maxAgeMs: 60_000 });
    expect(resolveStreamLimits("alerts", overrides).replicas).toBe(3);
    expect(resolveStreamLimits("traces", overrides).replicas).toBe(5);
  });
});
