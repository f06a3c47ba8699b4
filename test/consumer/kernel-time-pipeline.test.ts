// Kernel time at any uptime, end to end without bpftrace or NATS: a real
// recorded probe output, with a constant added to every kernel time, goes
// through the agent, the EventBatch codec, the stitcher and SQLite, and comes
// back as traces and timelines with exact socket ids and timestamps, the same
// traces as the recording gives unshifted. 2^53 ns is 104 days of uptime:
// past it a double cannot hold every ns.
import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { Agent } from "../../src/agent/mod.js";
import { parseSocketId, type ConnEvent, type ConnEventInit, type Trace } from "../../src/model/mod.js";
import { eventToJson } from "../../src/query/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { Stitcher } from "../../src/trace/mod.js";
import { decodeBatch, encodeBatch } from "../../src/transport/mod.js";

const NODE = "node-1";
const SOURCE = { node: NODE, bootId: "boot", agentStartUs: 1 };
const lines = readFileSync(new URL("../probes/fixtures/loopback-basics.txt", import.meta.url), "utf8").split("\n");
const BEGIN = BigInt(lines.find((l) => l.startsWith("B "))!.split(" ")[1]!);
const TAGS = new Set(["B", "O", "S", "E", "Y", "R", "r", "K", "C", "A", "X", "H", "D"]);

/** Fields besides ts that hold kernel times (the noted birth and handshake of a folded opening; 0 when none). */
const NOTED_TIMES: Record<string, number[]> = { O: [13, 14], r: [13, 14], C: [12, 13], A: [8, 9] };

/** The recording as if the machine had been up `shift` ns longer: every kernel time moved, digit for digit. */
function shifted(shift: bigint): string[] {
  return lines.map((l) => {
    const f = l.split(" ");
    if (!TAGS.has(f[0]!)) return l;
    f[1] = (BigInt(f[1]!) + shift).toString();
    for (const i of NOTED_TIMES[f[0]!] ?? []) if (f[i] !== "0") f[i] = (BigInt(f[i]!) + shift).toString();
    return f.join(" ");
  });
}

interface Run {
  published: ConnEventInit[];
  traces: Trace[];
  store: SqliteTraceStore;
}

const stores: SqliteTraceStore[] = [];
afterEach(async () => {
  for (const s of stores.splice(0)) await s.close();
});

async function run(shift: bigint): Promise<Run> {
  const published: ConnEventInit[] = [];
  const agent = new Agent({ node: NODE, sink: (evs) => published.push(...evs), pods: { resolve: () => "pod-a" } });
  agent.startClock();
  for (const l of shifted(shift)) agent.feed(l);
  agent.tick();
  await agent.stop();
  expect(agent.stats().malformedLines).toBe(0);

  const traces: Trace[] = [];
  const stitcher = new Stitcher({ onTrace: (t) => traces.push(t) });
  const store = new SqliteTraceStore({ path: ":memory:" });
  stores.push(store);
  // Batches as the publisher cuts them, decoded as the consumer gets them.
  for (let i = 0; i < published.length; i += 16) {
    const batch = decodeBatch(encodeBatch(SOURCE, published.slice(i, i + 16)));
    stitcher.ingest(batch.node, batch.events);
    await store.putEvents(SOURCE, batch.events);
  }
  stitcher.flush();
  await store.putTraces(traces);
  return { published, traces, store };
}

const ids = (t: Trace): string[] => t.hops.flatMap((h) => [h.client?.socketId ?? "", h.server?.socketId ?? ""]);

describe.each([
  ["just above 2^53 ns", (1n << 53n) + 1n - BEGIN],
  ["around 9.1e18 ns", 9_100_000_000_000_000_001n - BEGIN],
])("a recorded probe run at %s of uptime", (_name, shift) => {
  it("gives the same traces, with exact socket ids, stored and read back", async () => {
    const base = await run(0n);
    const far = await run(shift);

    // The agent published the same events, every kernel time moved by exactly `shift`.
    expect(far.published.map((e) => e.tsNs - shift)).toEqual(base.published.map((e) => e.tsNs));
    expect(far.published.map((e) => e.kind)).toEqual(base.published.map((e) => e.kind));

    // The same traces and outcomes; socket ids name the same births, exactly.
    expect(base.traces.length).toBeGreaterThanOrEqual(4);
    expect(far.traces.map((t) => t.outcome)).toEqual(base.traces.map((t) => t.outcome));
    const unshift = (id: string) => {
      if (!id) return id;
      const p = parseSocketId(id)!;
      return `${p.node}/${p.sock}/${p.birthNs - shift}`;
    };
    expect(far.traces.map((t) => ids(t).map(unshift))).toEqual(base.traces.map(ids));
    const stored = (await far.store.listTraces()).traces;
    expect(stored.map((t) => t.traceId).sort()).toEqual(far.traces.map((t) => t.traceId).sort());
    expect((await base.store.listTraces()).traces.length).toBe(stored.length);

    // Timelines: every event comes back with its exact kernel time, none lost.
    const publishedTs = new Set(far.published.map((e) => e.tsNs));
    for (const [i, t] of far.traces.entries()) {
      const farLine = await far.store.timeline({ traceId: t.traceId });
      const baseLine = await base.store.timeline({ traceId: base.traces[i]!.traceId });
      expect(farLine.events.length).toBeGreaterThan(0);
      expect(farLine.events.map((e) => e.event.tsNs - shift)).toEqual(baseLine.events.map((e) => e.event.tsNs));
      for (const { event } of farLine.events) {
        expect(publishedTs.has(event.tsNs)).toBe(true);
        expect(eventToJson(NODE, event).ts_ns).toBe(event.tsNs.toString());
      }
    }
  });

  it("a reused socket address: each generation's timeline holds its own events only", async () => {
    const far = await run(shift);
    // ffff888108980940 is three sockets in the recording (accepted twice, then a refused dial): three births, three ids.
    const gens = [...new Set(far.traces.flatMap(ids).filter((id) => id.includes("/ffff888108980940/")))];
    expect(gens).toHaveLength(3);
    const births = gens.map((id) => parseSocketId(id)!.birthNs).sort((a, b) => (a < b ? -1 : 1));
    for (const [i, id] of gens.entries()) {
      const birth = parseSocketId(id)!.birthNs;
      const next = births.find((b) => b > birth);
      const line = await far.store.timeline({ socketId: id });
      const own = line.events.map((e) => e.event).filter((e: ConnEvent) => e.sock === "ffff888108980940");
      expect(own.length, `generation ${i}`).toBeGreaterThan(1);
      for (const e of own) {
        expect(e.tsNs >= birth).toBe(true);
        if (next !== undefined) expect(e.tsNs < next).toBe(true);
      }
      expect(own.some((e) => e.tsNs === birth)).toBe(true);
    }
  });
});
