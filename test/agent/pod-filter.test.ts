// `--pods`: an agent reports only sockets of matching pods. The globs alone,
// then a real EventPipeline fed a bpftrace recording whose sockets are split
// over the host namespace and a second one, named by the real
// NetnsDirResolver (the host namespace is the node's name). Filtered events
// are dropped before their seq (the stream stays gapless), counted, and what
// is kept is exactly the matching pod's share of an unfiltered run.
import { readFileSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { EventPipeline, NetnsDirResolver, PodFilter, parsePodGlobs } from "../../src/agent/mod.js";
import { isInvalidArgumentError } from "../../src/errors/mod.js";
import { EventKind, type ConnEventInit } from "../../src/model/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";

describe("PodFilter", () => {
  test("globs: * spans any run (also across /), ? one character, anchored at both ends", () => {
    const f = new PodFilter(["shop/*", "node-?", "db"]);
    expect(f.matches("shop/cart-7d9f")).toBe(true);
    expect(f.matches("shop/a/b")).toBe(true);
    expect(f.matches("node-1")).toBe(true);
    expect(f.matches("node-12")).toBe(false);
    expect(f.matches("db")).toBe(true);
    expect(f.matches("db-2")).toBe(false);
    expect(f.matches("xshop/cart")).toBe(false);
    // Dots are literal, not regex wildcards.
    expect(new PodFilter(["a.b"]).matches("axb")).toBe(false);
  });

  test("a namespace without a name matches only *", () => {
    expect(new PodFilter(["shop/*", "node-1"]).matches("")).toBe(false);
    expect(new PodFilter(["*"]).matches("")).toBe(true);
  });

  test("parsePodGlobs splits on commas and refuses empty or odd globs", () => {
    expect(parsePodGlobs("ns-a/*, node-1")).toEqual(["ns-a/*", "node-1"]);
    for (const bad of ["", "a,,b", "a b", "a;b", "x[0]"]) {
      let err: unknown;
      try {
        parsePodGlobs(bad);
      } catch (e) {
        err = e;
      }
      expect(isInvalidArgumentError(err), bad).toBe(true);
    }
    expect(() => new PodFilter([])).toThrow(/at least one/);
  });
});

const RECORDING = readFileSync(new URL("../probes/fixtures/loopback-basics.txt", import.meta.url), "utf8");
const RECORDED_NETNS = "4026531833";
// Some sockets of the recording move to another namespace (the netns field of their lines).
const MOVED = new Set(["ffff888108980940", "ffff888108992700", "ffff888108997500"]);
const OTHER_NETNS = 4026599999;
const HOST_NETNS = statSync("/proc/self/ns/net").ino;
const NODE = "node-a";

/** The recording with the host namespace this test runs in, and MOVED's sockets in OTHER_NETNS. */
const split = RECORDING.split("\n")
  .map((l) => l.split(" ").map((f) => (f === RECORDED_NETNS ? String(MOVED.has(l.split(" ")[2] ?? "") ? OTHER_NETNS : HOST_NETNS) : f)).join(" "))
  .join("\n");

let netnsDir: TempDir;
beforeAll(async () => {
  netnsDir = await makeTempDir("pod-filter-netns");
});
afterAll(async () => {
  await netnsDir.remove();
});

async function run(podGlobs?: string[], node = NODE): Promise<{ events: ConnEventInit[]; pipeline: EventPipeline }> {
  const events: ConnEventInit[] = [];
  // The real resolver over an empty directory: the host namespace is the node's name, OTHER_NETNS has none.
  const pods = new NetnsDirResolver({ dir: netnsDir.path, hostName: node, watch: false });
  // OTHER_NETNS named as a pod would be, without bind-mounting one (that needs root; the root test does it).
  const named = { resolve: (ns: number) => (ns === OTHER_NETNS ? "shop/cart" : pods.resolve(ns)) };
  const pipeline = new EventPipeline({ settings: { node, ...(podGlobs ? { podGlobs } : {}) }, sink: (evs) => events.push(...evs), pods: named });
  pipeline.feedChunk(Buffer.from(split));
  await pipeline.stop();
  pods.close();
  return { events, pipeline };
}

const key = (e: ConnEventInit) => `${e.kind} ${e.sock} ${e.tsNs}`;

describe("EventPipeline with podGlobs", () => {
  test("keeps exactly the matching pod's events, seqs gapless, the rest counted as filtered", async () => {
    const all = await run();
    const shop = all.events.filter((e) => e.pod === "shop/cart");
    const host = all.events.filter((e) => e.pod === NODE);
    expect(shop.length).toBeGreaterThan(5);
    expect(host.length).toBeGreaterThan(5);
    expect(all.pipeline.stats().eventsFiltered).toBe(0);

    const onlyShop = await run(["shop/*"]);
    expect(onlyShop.events.map(key)).toEqual(shop.map(key));
    expect(onlyShop.events.map((e) => e.seq)).toEqual(onlyShop.events.map((_, i) => i + 1));
    expect(onlyShop.pipeline.stats().eventsFiltered).toBe(all.events.length - shop.length);
    expect(onlyShop.pipeline.stats().eventsReleased).toBe(shop.length);
  });

  test("the host namespace matches only a glob of the node's name", async () => {
    const all = await run();
    const host = all.events.filter((e) => e.pod === NODE);
    const byNode = await run(["node-?"]);
    expect(byNode.events.map(key)).toEqual(host.map(key));
    // Another node name: the same host sockets are not this agent's.
    const otherNode = await run(["node-a"], "node-b");
    expect(otherNode.events).toEqual([]);
    expect(otherNode.pipeline.stats().eventsFiltered).toBe(all.events.length);
  });

  test("GAPs pass the filter: a hole in the probe's output is every pod's", async () => {
    const events: ConnEventInit[] = [];
    const p = new EventPipeline({ settings: { node: NODE, podGlobs: ["nothing-matches"] }, sink: (evs) => events.push(...evs), pods: { resolve: () => "" } });
    p.feedChunk(Buffer.from(`${split}\nLost 7 events\n`));
    await p.stop();
    expect(events.map((e) => [e.kind, e.seq, e.lost])).toEqual([[EventKind.EVENT_KIND_GAP, 1, 7]]);
  });
});
