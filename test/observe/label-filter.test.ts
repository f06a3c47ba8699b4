// observe --label: pairs parsed as Kubernetes labels, all of them required
// (repeated is AND), matched against the labels each event got from its
// batch's pod directory.
import { describe, expect, it } from "vitest";
import { EventKind, type ConnEventInit, type PodLabels } from "../../src/model/mod.js";
import { buildFilter, matchEvent } from "../../src/observe/filter.js";
import { isInvalidFilterError } from "../../src/observe/errors.js";
import { labelsMatch, parseLabelSelector } from "../../src/observe/label-filter.js";
import { decodeBatch, encodeBatch } from "../../src/transport/mod.js";

describe("parseLabelSelector", () => {
  it("reads key=value pairs, comma lists and prefixed keys, and an empty value", () => {
    expect(parseLabelSelector(["app=web", "tier=front,app.kubernetes.io/name=shop", "canary="])).toEqual([
      ["app", "web"],
      ["tier", "front"],
      ["app.kubernetes.io/name", "shop"],
      ["canary", ""],
    ]);
  });

  it.each(["app", "=web", "app=web x", "-app=web", `app=${"v".repeat(64)}`])("refuses %j as a usage error naming the flag", (v) => {
    let err: unknown;
    try {
      parseLabelSelector([v]);
    } catch (e) {
      err = e;
    }
    expect(isInvalidFilterError(err)).toBe(true);
    expect(String(err)).toContain("--label");
  });
});

describe("labelsMatch", () => {
  const web: PodLabels = { app: "web", tier: "front" };
  it("needs every pair (AND), and labels at all", () => {
    expect(labelsMatch([["app", "web"]], web)).toBe(true);
    expect(labelsMatch([["app", "web"], ["tier", "front"]], web)).toBe(true);
    expect(labelsMatch([["app", "web"], ["tier", "back"]], web)).toBe(false);
    expect(labelsMatch([["app", "web"]], undefined)).toBe(false);
    expect(labelsMatch([], undefined)).toBe(true);
  });
});

describe("observe --label on decoded batches", () => {
  const WEB: PodLabels = Object.freeze({ app: "web", tier: "front" });
  const DB: PodLabels = Object.freeze({ app: "db", tier: "back" });
  const ev = (seq: number, netns: number, pod: string, podLabels?: PodLabels): ConnEventInit => ({
    seq,
    kind: EventKind.EVENT_KIND_STATE_CHANGE,
    tsNs: 9_000_000_000n + BigInt(seq),
    netns,
    pod,
    podLabels,
  });
  // Through the real codec: the labels reach observe only through the batch's pod directory.
  const events = decodeBatch(
    encodeBatch({ node: "n1", bootId: "b", agentStartUs: 1 }, [ev(1, 11, "shop/web", WEB), ev(2, 22, "shop/db", DB), ev(3, 33, "node-1"), ev(4, 11, "shop/web", WEB)]),
  ).events;
  const shown = (label: string[], not?: string[]) => {
    const f = buildFilter({ label, ...(not ? { not: { label: not } } : {}) });
    return events.filter((e) => matchEvent(f, "n1", e)).map((e) => e.seq);
  };

  it("shows the events of pods with the label", () => {
    expect(shown(["app=web"])).toEqual([1, 4]);
    expect(shown(["tier=back"])).toEqual([2]);
  });

  it("repeated, needs every label", () => {
    expect(shown(["app=web", "tier=front"])).toEqual([1, 4]);
    expect(shown(["app=web", "tier=back"])).toEqual([]);
  });

  it("after --not, hides them", () => {
    expect(shown([], ["app=web"])).toEqual([2, 3]);
  });
});
