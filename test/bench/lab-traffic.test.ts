// The store bench's lab traffic must be the lab's recordings: its traces the
// ones those recordings stitch into (checked here against the recordings
// stitched by the tests' own helper, not by the template's builder), in the
// mix's proportions, as distinct connections; and it must follow the
// recordings when they change.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseSocketId, v1, type ConnEvent, type Trace } from "../../src/model/mod.js";
import { Stitcher, traceId } from "../../src/trace/mod.js";
import { buildLabTemplate, DEFAULT_LAB_DIR, DEFAULT_LAB_MIX, labSchedule, traceShape } from "../../bench/lab-traffic.js";
import { TraceCloner } from "../../bench/trace-clone.js";
import { loadFixture } from "../trace/helpers/load-fixture.js";
import { stitch } from "../trace/helpers/stitch.js";

const T = 100;
const lab = buildLabTemplate({ connections: T });
const names = Object.keys(DEFAULT_LAB_MIX);

/** Every recording stitched in one go, as the lab recorded them one after the other (reject's RST is "untraced" because ok showed b's sockets traced). */
function recordedTraces(dir = DEFAULT_LAB_DIR): Map<string, Trace> {
  const recs = names.map((name) => ({ name, records: loadFixture(join(dir, `${name}.json`)) }));
  recs.sort((a, b) => (a.records[0]!.event.tsNs < b.records[0]!.event.tsNs ? -1 : 1));
  const { traces } = stitch(recs.flatMap((r) => r.records));
  expect(traces).toHaveLength(names.length);
  // Each recording's kernel time span holds exactly one trace's root socket birth. Kernel time, not
  // startUs: startUs is that birth converted to wall µs through the node's newest clock pair when the
  // trace is built, and the recordings' whole-µs timeUs make pairs disagree by up to 1 µs, so a trace
  // built before the last recording arrives (traces settle on the node's event time) may start 1 µs
  // before its own first event's timeUs. Socket ids carry the exact birth.
  const rootBirth = (t: Trace) => parseSocketId(t.hops[0]!.client?.socketId ?? t.hops[0]!.server?.socketId ?? "")?.birthNs;
  return new Map(
    recs.map(({ name, records }) => {
      const [from, to] = [records[0]!.event.tsNs, records.at(-1)!.event.tsNs];
      const mine = traces.filter((t) => {
        const born = rootBirth(t);
        return born !== undefined && born >= from && born <= to;
      });
      expect(mine).toHaveLength(1);
      return [name, mine[0]!];
    }),
  );
}

const summary = (t: Pick<Trace, "outcome" | "hops">) => `${v1.Outcome[t.outcome]}/${t.hops.length} hops`;

function tally(keys: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of keys) out[k] = (out[k] ?? 0) + 1;
  return out;
}

describe("lab traffic template", () => {
  const recorded = recordedTraces();

  it("holds the recordings' traces in the mix's proportions: outcomes and hop counts as the fixtures stitch", () => {
    expect(lab.traces).toHaveLength(T);
    const total = Object.values(DEFAULT_LAB_MIX).reduce((s, w) => s + w, 0);
    // What the fixtures give, weighted by the mix (at T = total weight, each weight is a count).
    expect(total).toBe(T);
    const want = tally(names.flatMap((n) => Array<string>(DEFAULT_LAB_MIX[n]!).fill(summary(recorded.get(n)!))));
    expect(tally(lab.traces.map(summary))).toEqual(want);
    // Mostly completed: the recordings' failures are the minority the mix says.
    expect(lab.traces.filter((t) => t.outcome === v1.Outcome.OUTCOME_COMPLETED).length).toBeGreaterThanOrEqual(0.9 * T);
  });

  it("keeps each recording's hops: pods, roles, legs, processes, who reset with which reason, who closed first", () => {
    expect(tally(lab.scenarios)).toEqual(DEFAULT_LAB_MIX);
    lab.traces.forEach((t, i) => {
      const r = recorded.get(lab.scenarios[i]!)!;
      expect(traceShape(t)).toBe(traceShape(r));
      expect(t.hops.map((h) => [h.client?.pod, h.client?.role, h.server?.pod, h.server?.port, h.resetReason])).toEqual(
        r.hops.map((h) => [h.client?.pod, h.client?.role, h.server?.pod, h.server?.port, h.resetReason]),
      );
    });
    expect(lab.traces.some((t) => t.hops.some((h) => h.resetReason === v1.ResetReason.RESET_REASON_TCP_STATE))).toBe(true);
  });

  it("replays each recording's events on the sockets its trace names, in their recorded order and kinds", () => {
    const eventsOf = (events: readonly ConnEvent[], t: Trace) => {
      const socks = new Set(t.hops.flatMap((h) => [h.client, h.server]).map((ep) => parseSocketId(ep?.socketId ?? "")?.sock));
      return events.filter((e) => socks.has(e.sock)).map((e) => [v1.EventKind[e.kind], e.oldState, e.newState, e.pod, e.role, e.leg, e.process?.pid ?? 0]);
    };
    for (const name of names) {
      const i = lab.scenarios.indexOf(name);
      const fixture = loadFixture(join(DEFAULT_LAB_DIR, `${name}.json`)).map((r) => r.event);
      expect(eventsOf(lab.nodes[0]!.events, lab.traces[i]!)).toEqual(eventsOf(fixture, recorded.get(name)!));
    }
  });

  it("makes distinct connections: own trace ids, sockets and client ports, starting 1/rate apart", () => {
    expect(new Set(lab.traces.map((t) => t.traceId)).size).toBe(T);
    // A refused or untraced peer is a socket nobody saw: it has no id.
    const sockets = lab.traces.flatMap((t) => t.hops.flatMap((h) => [h.client?.socketId, h.server?.socketId])).filter((id) => id);
    expect(new Set(sockets).size).toBe(sockets.length);
    const clientPorts = lab.traces.flatMap((t) => t.hops.map((h) => `${h.client?.ip}:${h.client?.port}`));
    expect(new Set(clientPorts).size).toBe(clientPorts.length);
    // Connection starts (their first SYN) 1 ms apart at the default 1,000/s, in kernel time.
    const syns = lab.nodes[0]!.events.filter((e) => e.newState === v1.TcpState.TCP_STATE_SYN_SENT).map((e) => e.tsNs);
    const roots = new Set(lab.traces.map((t) => parseSocketId(t.hops[0]!.client!.socketId!)!.birthNs));
    const starts = syns.filter((ns) => roots.has(ns)).sort((a, b) => (a < b ? -1 : 1));
    expect(starts).toHaveLength(T);
    for (let i = 1; i < T; i++) expect(starts[i]! - starts[i - 1]!).toBe(1_000_000n);
  });

  it("schedules the mix smoothly: the heaviest first, every failure spread out", () => {
    const s = labSchedule({ ok: 8, a: 1, b: 1 }, 20);
    expect(s[0]).toBe("ok");
    expect(tally(s)).toEqual({ ok: 16, a: 2, b: 2 });
    expect(s.indexOf("a", s.indexOf("a") + 1) - s.indexOf("a")).toBe(10);
    expect(() => labSchedule({ ok: 0 }, 5)).toThrow(/no recording a weight/);
    expect(() => labSchedule({ ok: -1 }, 5)).toThrow(/"ok" must be a number >= 0/);
  });
});

describe("lab traffic cloned", () => {
  it("copies stitch again into the copies' traces (the cloner keeps what the stitcher reads)", () => {
    // A slower rate keeps the recorded durations close (the cloner fits a template's span into T / rate).
    const rate = 20;
    const template = buildLabTemplate({ connections: T, ratePerSec: rate });
    const cloner = new TraceCloner(template, { count: 3 * T, ratePerSec: rate, endUs: 1_800_000_000_000_000 });
    const traces: Trace[] = [];
    const stitcher = new Stitcher({ onTrace: (t) => void traces.push(t) });
    const events = [0, 1, 2].flatMap((k) => cloner.events(k, 0)).map((e) => Object.assign(v1.ConnEvent.create(), e) as unknown as ConnEvent);
    stitcher.ingest(template.nodes[0]!.node, events);
    stitcher.flush();
    const byId = new Map(traces.map((t) => [t.traceId, t]));
    expect(byId.size).toBe(3 * T);
    for (let n = 0; n < 3 * T; n++) {
      const copy = cloner.trace(n);
      const again = byId.get(copy.traceId!);
      expect(again, `connection ${n}`).toBeDefined();
      expect(again!.traceId).toBe(traceId(copy.hops![0]!.client!.socketId!));
      expect(traceShape(again!)).toBe(traceShape(template.traces[n % T]!));
    }
  });
});

describe("lab traffic follows its recordings", () => {
  const dir = mkdtempSync(join(tmpdir(), "tcptrail-lab-fixtures-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a renamed pod and another reset reason in the files show in the template", () => {
    cpSync(DEFAULT_LAB_DIR, dir, { recursive: true });
    const edit = (name: string, from: RegExp, to: string) => {
      const path = join(dir, `${name}.json`);
      const text = readFileSync(path, "utf8");
      expect(text).toMatch(from);
      writeFileSync(path, text.replace(from, to));
    };
    edit("ok", /"tt-a"/g, '"tt-renamed"');
    edit("app-abort", /RESET_REASON_TCP_STATE/g, "RESET_REASON_TCP_ABORT_ON_DATA");
    const changed = buildLabTemplate({ connections: T, dir });
    type Template = typeof lab;
    const clientPods = (t: Template) => tally(t.traces.map((x) => x.hops[0]!.client!.pod ?? ""));
    expect(clientPods(lab)["tt-renamed"]).toBeUndefined();
    expect(clientPods(changed)["tt-renamed"]).toBe(DEFAULT_LAB_MIX.ok);
    const reasons = (t: Template) => tally(t.traces.flatMap((x) => x.hops.map((h) => v1.ResetReason[h.resetReason ?? 0] ?? "")).filter((r) => r !== "RESET_REASON_UNSPECIFIED"));
    expect(reasons(lab).RESET_REASON_TCP_ABORT_ON_DATA).toBeUndefined();
    expect(reasons(changed).RESET_REASON_TCP_ABORT_ON_DATA).toBe(DEFAULT_LAB_MIX["app-abort"]);
  });

  it("a recording the mix names but the directory lacks fails naming it", () => {
    rmSync(join(dir, "reject.json"), { force: true });
    expect(() => buildLabTemplate({ connections: T, dir })).toThrow(/no recording .*reject\.json/);
  });
});
