// The lab scenarios' recorded events (test/trace/fixtures/lab) stitched by
// the real Stitcher: the traces the web view's tests draw, with the events
// the timeline endpoint would return for them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Trace } from "../../../src/model/mod.js";
import { eventToJson, traceToJson, type EventJson, type TraceJson } from "../../../src/query/mod.js";
import { parseFixture, type FixtureRecord } from "../../trace/helpers/load-fixture.js";
import { stitch } from "../../trace/helpers/stitch.js";

export const LAB_FIXTURES = join(import.meta.dirname, "..", "..", "trace", "fixtures", "lab");
/**
 * The lab's pooled scenario (4 client connections served by one HTTP-mode
 * sidecar upstream), recorded the same way (test/e2e/lab-ground-truth.test.ts
 * with TCPTRAIL_RECORD_FIXTURES, real bpftrace and HAProxy). Kept apart from
 * LAB_FIXTURES, whose every file the stream-size measurement and the lab
 * traffic bench read as one mix of one-connection scenarios.
 */
export const LAB_POOLED_FIXTURES = join(import.meta.dirname, "..", "..", "trace", "fixtures", "lab-pooled");

export interface LabScenario {
  records: FixtureRecord[];
  traces: Trace[];
}

export function labScenario(name: string, dir = LAB_FIXTURES): LabScenario {
  const records = parseFixture(readFileSync(join(dir, `${name}.json`), "utf8"));
  return { records, traces: stitch(records).traces };
}

/** The scenario's one trace as the API gives it, and every recorded event as JSON. */
export function labTraceJson(name: string): { trace: TraceJson; events: EventJson[] } {
  const { records, traces } = labScenario(name);
  if (traces.length !== 1) throw new Error(`${name}: expected one trace, stitched ${traces.length}`);
  return { trace: traceToJson(traces[0]!), events: records.map((r) => eventToJson(r.node, r.event)) };
}
