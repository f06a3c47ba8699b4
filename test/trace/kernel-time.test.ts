// The stitcher at any uptime: every recorded and modelled stream, replayed as
// if the machine had been up past 2^53 ns (104 days, where doubles stop
// telling 1 ns apart) or ~288 years, yields the same traces with the exact
// socket births.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { formatSocketId, parseSocketId, v1, type Trace } from "../../src/model/mod.js";
import { loadFixture, type FixtureRecord } from "./helpers/load-fixture.js";
import { stitch } from "./helpers/stitch.js";

const dir = join(import.meta.dirname, "fixtures");
const files = [
  ...readdirSync(dir).filter((f) => f.endsWith(".json")),
  ...readdirSync(join(dir, "lab")).map((f) => join("lab", f)),
];

const earliest = (recs: readonly FixtureRecord[]): bigint =>
  recs.reduce((m, r) => (r.event.tsNs > 0n && r.event.tsNs < m ? r.event.tsNs : m), recs[0]!.event.tsNs);

/** A trace as plain JSON with every socket id moved back by `shift` (trace ids derive from them: dropped). */
function unshifted(t: Trace, shift: bigint): unknown {
  const o = v1.Trace.toObject(t, { longs: String }) as { traceId?: string };
  delete o.traceId;
  // Socket ids appear on hop ends and on the reset origin: rewrite them wherever they are.
  const json = JSON.stringify(o).replace(/"socketId":"([^"]+)"/g, (_m, id: string) => {
    const parts = parseSocketId(id)!;
    return `"socketId":"${formatSocketId({ ...parts, birthNs: parts.birthNs - shift })}"`;
  });
  return JSON.parse(json);
}

describe.each(files)("%s at any uptime", (file) => {
  const path = join(dir, file);
  const plain = stitch(loadFixture(path)).traces;
  const start = earliest(loadFixture(path));

  it.each([
    ["just above 2^53 ns", (1n << 53n) + 1n - start],
    ["around 9.1e18 ns", 9_100_000_000_000_000_007n - start],
  ])("%s: same traces, exact births", (_name, shift) => {
    const shifted = stitch(loadFixture(path, shift)).traces;
    expect(shifted.length).toBe(plain.length);
    expect(shifted.map((t) => t.outcome)).toEqual(plain.map((t) => t.outcome));
    expect(new Set(shifted.map((t) => t.traceId)).size).toBe(new Set(plain.map((t) => t.traceId)).size);
    expect(shifted.map((t) => unshifted(t, shift))).toEqual(plain.map((t) => unshifted(t, 0n)));
    // The births are the shifted kernel times, digit for digit (not a rounded double).
    const births = shifted.flatMap((t) => t.hops.flatMap((h) => [h.client?.socketId, h.server?.socketId])).filter((s): s is string => !!s);
    expect(births.length).toBeGreaterThan(0);
    for (const id of births) expect(parseSocketId(id)!.birthNs - shift).toBeGreaterThanOrEqual(start);
  });
});
