// Pod labels in the trace JSON (sorted, null when none) and in `why` (one
// line, each labelled pod once, control characters escaped).
import { describe, expect, it } from "vitest";
import { v1, type Trace } from "../../src/model/mod.js";
import { renderWhy, traceToJson } from "../../src/query/mod.js";
import { formatLabels } from "../../src/query/trace-json.js";
import { meshTrace } from "../store/fixtures.js";

const START = 1_714_557_600_000_000;

function labelled(): Trace {
  const t = v1.Trace.decode(v1.Trace.encode(meshTrace({ id: "lab", startUs: START })).finish());
  for (const h of t.hops) {
    for (const e of [h.client, h.server]) if (e && e.pod) e.labels = { tier: "front", app: e.pod.replace(/^.*\//, "") };
  }
  return t;
}

describe("labels in the trace JSON", () => {
  it("are each endpoint's labels with sorted keys, null when there are none", () => {
    const j = traceToJson(labelled());
    const ep = j.hops[0]!.client;
    expect(ep.pod).not.toBeNull();
    expect(ep.labels).toEqual({ app: ep.pod!.replace(/^.*\//, ""), tier: "front" });
    expect(Object.keys(ep.labels!)).toEqual(["app", "tier"]);
    const plain = traceToJson(meshTrace({ id: "plain", startUs: START }));
    expect(plain.hops.every((h) => h.client.labels === null && h.server.labels === null)).toBe(true);
  });
});

describe("labels in why", () => {
  it("one line naming each labelled pod once, compactly", () => {
    const t = labelled();
    const pods = new Set(t.hops.flatMap((h) => [h.client?.pod, h.server?.pod]).filter((p): p is string => !!p));
    const out = renderWhy(traceToJson(t));
    const line = out.split("\n").find((l) => l.trimStart().startsWith("labels:"));
    expect(line).toBeDefined();
    for (const p of pods) {
      expect(line!.split(`${p} {`).length - 1).toBe(1);
      expect(line).toContain(`${p} {app=${p.replace(/^.*\//, "")},tier=front}`);
    }
    expect(renderWhy(traceToJson(meshTrace({ id: "plain", startUs: START })))).not.toContain("labels:");
  });

  it("escapes control characters in keys and values", () => {
    const t = labelled();
    t.hops[0]!.client!.labels = { "k\u001b[31m": "v\u0007" };
    const out = renderWhy(traceToJson(t));
    expect(out).not.toMatch(/[\u0007\u001b]/);
  });

  it("formatLabels reads as a selector", () => {
    expect(formatLabels({ tier: "front", app: "web" })).toBe("app=web,tier=front");
    expect(formatLabels(null)).toBe("");
  });
});
