import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildFilter, runObserve } from "../../src/observe/mod.js";
import { EVENTS_STREAM, EventPublisher } from "../../src/transport/mod.js";
import { waitFor } from "../helpers/mod.js";
import { makeEvents, startNatsFixture, type NatsFixture } from "./helpers.js";

let fx: NatsFixture;
beforeAll(async () => {
  fx = await startNatsFixture();
  for (const node of ["obs-1", "obs-2"]) {
    const pub = new EventPublisher({ js: fx.js, node, bootId: "b", agentStartUs: 1, maxBatchEvents: 7 });
    pub.push(makeEvents(30, 1, node));
    await pub.close();
  }
});
afterAll(async () => {
  await fx?.close();
});

describe("runObserve", () => {
  it("replays the last minute, filtered, as compact lines", async () => {
    const lines: string[] = [];
    const r = await runObserve({
      natsUrl: fx.server.url,
      filter: buildFilter({ node: ["obs-2"], kind: ["reset-sent"] }),
      write: (l) => void lines.push(l),
      compact: { utc: true },
    });
    expect(r.printed).toBe(10); // every third event of 30
    expect(lines).toHaveLength(10);
    for (const l of lines) expect(l).toMatch(/^\d\d:\d\d:\d\d\.\d{6} obs-2\/obs-2-pod RESET_SENT 10\.88\.0\.3:8080 -> /);
  });

  it("--last keeps only the tail; -o json prints one object per line", async () => {
    const lines: string[] = [];
    await runObserve({
      natsUrl: fx.server.url,
      filter: buildFilter({ pod: ["obs-1-pod"] }),
      last: 3,
      output: "json",
      write: (l) => void lines.push(l),
    });
    expect(lines.map((l) => JSON.parse(l).seq)).toEqual([28, 29, 30]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ node: "obs-1", kind: "STATE_CHANGE", role: "SIDECAR" });
  });

  it("--follow prints new events until aborted", async () => {
    const ac = new AbortController();
    const lines: string[] = [];
    const consumers = async () => (await fx.jsm.streams.info(EVENTS_STREAM)).state.consumer_count;
    const before = await consumers();
    const done = runObserve({
      natsUrl: fx.server.url,
      filter: buildFilter({ node: ["obs-3"] }),
      follow: true,
      signal: ac.signal,
      write: (l) => {
        lines.push(l);
        if (lines.length === 5) ac.abort();
      },
    });
    // Follow shows only events newer than its consumer: publish once that exists.
    await waitFor(async () => (await consumers()) > before, { what: "observe's consumer on the events stream" });
    const pub = new EventPublisher({ js: fx.js, node: "obs-3", bootId: "b", agentStartUs: 1 });
    pub.push(makeEvents(5, 1, "obs-3"));
    await pub.close();
    const r = await done;
    expect(r.printed).toBe(5);
  });
});
