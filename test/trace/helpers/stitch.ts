// Run records through a Stitcher and collect what it emits.
import type { Trace } from "../../../src/model/mod.js";
import { Stitcher, type StitcherOptions, type TraceInfo } from "../../../src/trace/mod.js";
import { replay, toConnEvent, type FixtureRecord } from "./load-fixture.js";
import type { Rec } from "./mesh-lab.js";

export interface Stitched {
  traces: Trace[];
  infos: TraceInfo[];
  stitcher: Stitcher;
}

export function toFixture(recs: readonly Rec[]): FixtureRecord[] {
  return recs.map((r) => ({ node: r.node, event: toConnEvent(r.event) }));
}

export function stitch(
  recs: readonly (Rec | FixtureRecord)[],
  opts: StitcherOptions = {},
  batchSize = 8,
  flush = true,
): Stitched {
  const traces: Trace[] = [];
  const infos: TraceInfo[] = [];
  const stitcher = new Stitcher({
    ...opts,
    onTrace: (t, i) => {
      traces.push(t);
      infos.push(i);
    },
  });
  const fixture = recs.map((r) =>
    typeof (r.event as { kind?: unknown }).kind === "number" ? (r as FixtureRecord) : { node: r.node, event: toConnEvent((r as Rec).event) },
  );
  replay(fixture, (n, e) => stitcher.ingest(n, e), batchSize);
  if (flush) stitcher.flush();
  return { traces, infos, stitcher };
}
