import { describe, expect, test } from "vitest";
import { agentOptions } from "../../bench/agent-options.js";
import { replayLines } from "../../bench/replay-lines.js";
import { synthesizeChurnRecording } from "../../bench/synthetic-churn.js";
import { EventPipeline } from "../../src/agent/mod.js";
import { EventKind, type ConnEventInit } from "../../src/model/mod.js";
import { LineParser } from "../../src/probes/mod.js";

const tag = (l: string) => l.charAt(0);

describe("synthetic churn recording", () => {
  test("every line parses, and a pair is what the folding probe prints for it", () => {
    const pairs = 400;
    const lines = synthesizeChurnRecording({ pairs, rstShare: 0.25, startNs: 1_000_000_000_000n });
    const kinds = new Map<number, number>();
    const parser = new LineParser({ onEvent: (e) => kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1) });
    for (const l of lines) parser.parse(l);
    expect(parser.malformed).toBe(0);
    const aborted = pairs / 4;
    // 7 lines per FIN-closed pair, 5 per aborted one, and the listener's O.
    expect(lines.length).toBe(1 + (pairs - aborted) * 7 + aborted * 5);
    expect(kinds.get(EventKind.EVENT_KIND_SYSCALL_CONNECT)).toBe(pairs);
    expect(kinds.get(EventKind.EVENT_KIND_SYSCALL_ACCEPT)).toBe(pairs);
    expect(kinds.get(EventKind.EVENT_KIND_SYSCALL_CLOSE)).toBe(2 * (pairs - aborted) + aborted);
    expect(kinds.get(EventKind.EVENT_KIND_RESET_SENT)).toBe(aborted);
    expect(kinds.get(EventKind.EVENT_KIND_RESET_RECEIVED)).toBe(aborted);
  });

  test("lines arrive as interleaved per-CPU runs, yet the agent orders and attributes every event", () => {
    const lines = synthesizeChurnRecording({ pairs: 2000, cpuRun: 16 });
    const out: ConnEventInit[] = [];
    const p = new EventPipeline({ settings: { node: "n" }, sink: (evs) => out.push(...evs), pods: { resolve: () => "host" } });
    for (const l of lines) p.feedLine(l);
    p.stopSync();
    const s = p.stats();
    expect(s.malformedLines).toBe(0);
    expect(s.reordered).toBeGreaterThan(0);
    expect(s.lateEvents).toBe(0);
    expect(s.unattributed).toBe(0);
    for (let i = 1; i < out.length; i++) expect(out[i]!.tsNs >= out[i - 1]!.tsNs).toBe(true);
    // Every socket event but the listener's (no process ever touched it) has its owner.
    const ownerless = out.filter((e) => e.kind !== EventKind.EVENT_KIND_GAP && !e.owner && !e.process);
    expect(ownerless.length).toBe(1);
  });
});

describe("replay lines", () => {
  const recorded = [
    "Attaching 15 probes...",
    "B 5000",
    "C 10000 ffff1 1 1 0 4 4 127.0.0.1 80 1 6 9000 9500 4 127.0.0.1 5 127.0.0.1 80 1 0 my comm",
    "A 11000 ffff2 1 1 5 1 1034 9100 0 4 127.0.0.1 80 127.0.0.1 5 1 0 my comm",
    "Y 12000 ffff1 1 4 22 1 1 4 my comm",
    "E 13000 ffff1 5 182",
  ];

  test("keeps every event line, the close lines too, and drops B and bpftrace's own", () => {
    const lines = replayLines(recorded, 4);
    expect(lines.map(tag)).toEqual(["C", "A", "Y", "E"]);
  });

  test("each copy moves every kernel time by the span (a missing birth stays 0), comm untouched", () => {
    const lines = replayLines(recorded, 8);
    const span = 13000 - 10000 + 1000;
    expect(lines[4]).toBe(`C ${10000 + span} ffff1 1 1 0 4 4 127.0.0.1 80 1 6 ${9000 + span} ${9500 + span} 4 127.0.0.1 5 127.0.0.1 80 1 0 my comm`);
    expect(lines[5]).toBe(`A ${11000 + span} ffff2 1 1 5 1 1034 ${9100 + span} 0 4 127.0.0.1 80 127.0.0.1 5 1 0 my comm`);
    expect(lines[7]).toBe(`E ${13000 + span} ffff1 5 182`);
  });
});

describe("agent bench options", () => {
  test("records from bpftrace unless --replay names a file or synthetic", () => {
    expect(agentOptions(new Map()).replay).toEqual({ kind: "bpftrace" });
    expect(agentOptions(new Map([["replay", "synthetic"]])).replay).toEqual({ kind: "synthetic" });
    expect(agentOptions(new Map([["replay", "/tmp/rec.txt"], ["save-recording", "/tmp/x"]]))).toEqual({ replay: { kind: "file", path: "/tmp/rec.txt" }, saveRecording: "/tmp/x" });
    expect(() => agentOptions(new Map([["replay", " "]]))).toThrow(/--replay/);
  });
});

describe("replay placement and CPU drift", () => {
  test("the replay can be moved to start at a given kernel time, every time field with it", () => {
    const lines = replayLines(["S 5000 ffff1 1 4", "A 7000 ffff2 1 1 5 1 1034 4000 0 4 127.0.0.1 80 127.0.0.1 5 1 0 c"], 4, 1_000_000n);
    expect(lines[0]).toBe("S 1000000 ffff1 1 4");
    expect(lines[1]).toBe("A 1002000 ffff2 1 1 5 1 1034 999000 0 4 127.0.0.1 80 127.0.0.1 5 1 0 c");
    expect(lines[2]).toBe("S 1003000 ffff1 1 4");
  });

  test("the synthetic CPUs never drift further apart than a run of lines", () => {
    const lines = synthesizeChurnRecording({ pairs: 20_000, cpuRun: 64 });
    let max = 0n;
    let worst = 0n;
    for (const l of lines) {
      const ts = BigInt(l.split(" ")[1]!);
      if (ts > max) max = ts;
      else if (max - ts > worst) worst = max - ts;
    }
    // 64 lines of one CPU span well under 5 ms of the churn; the window is 100 ms.
    expect(worst).toBeLessThan(5_000_000n);
  });
});
