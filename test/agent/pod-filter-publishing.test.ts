// Filtered events are no loss: an agent whose --pods leaves out part of what
// it read stops with nothing unpublished (no GAP for the next start to
// publish), and counts them in tcptrail_events_filtered_total. A real
// in-thread Agent fed a bpftrace recording, a real publisher and nats-server.
import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Agent } from "../../src/agent/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import { createMetrics } from "../../src/metrics/mod.js";
import { EventKind, type ConnEventInit } from "../../src/model/mod.js";
import { AgentPublishing } from "../../src/runtime/agent-publishing.js";
import { jetstream } from "../../src/transport/mod.js";
import { makeTempDir, setupNats, type NatsSetup, type TempDir } from "../helpers/mod.js";

// The recording's sockets in two namespaces: these three moved to SHOP_NETNS (the netns field of their lines), the rest stay.
const SHOP_SOCKS = new Set(["ffff888108980940", "ffff888108992700", "ffff888108997500"]);
const RECORDED_NETNS = "4026531833";
const SHOP_NETNS = 4026599999;
const lines = readFileSync(new URL("../probes/fixtures/loopback-basics.txt", import.meta.url), "utf8")
  .split("\n")
  .filter((l) => l.length > 0)
  .map((l) => (SHOP_SOCKS.has(l.split(" ")[2] ?? "") ? l.split(" ").map((f) => (f === RECORDED_NETNS ? String(SHOP_NETNS) : f)).join(" ") : l));

let nats: NatsSetup;
let state: TempDir;
beforeEach(async () => {
  nats = await setupNats({ label: "pod-filter-publishing" });
  state = await makeTempDir("pod-filter-state");
});
afterEach(async () => {
  await nats.close();
  await state.remove();
});

describe("an agent with pod globs", () => {
  it("stops with nothing unpublished though it read other pods' events, and counts those as filtered", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const publishing = await AgentPublishing.start({
      js: jetstream(nats.nc),
      node: "pf-node",
      bootId: "pf-boot",
      agentStartUs: Date.now() * 1000,
      logger: silentLogger,
      metrics,
      stateDir: state.path,
      publisher: { maxBatchDelayMs: 5 },
    });
    const released: ConnEventInit[] = [];
    const agent = new Agent({
      node: "pf-node",
      podGlobs: ["shop/*"],
      pods: { resolve: (netns) => (netns === SHOP_NETNS ? "shop/cart" : "other/db") },
      reorderWindowMs: 1,
      metrics,
      sink: (events) => {
        released.push(...events.map((e) => ({ ...e })));
        publishing.publisher.push(events);
      },
    });
    publishing.bind(agent);
    for (const l of lines) agent.feed(l);
    publishing.beginStop();
    await agent.stop();
    const { unpublished, publisher } = await publishing.stop(5000);

    const stats = agent.stats();
    expect(stats.eventsFiltered).toBeGreaterThan(0);
    expect(released.length).toBeGreaterThan(0);
    expect(released.every((e) => e.kind === EventKind.EVENT_KIND_GAP || e.pod === "shop/cart")).toBe(true);
    expect(stats.eventsRead).toBe(released.length + stats.eventsFiltered);
    expect(publisher.published).toBe(released.length);
    expect(unpublished).toBe(0);
    expect((await metrics.eventsUnpublished.get()).values[0]?.value ?? 0).toBe(0);
    expect((await metrics.eventsFiltered.get()).values[0]?.value).toBe(stats.eventsFiltered);
  });
});
