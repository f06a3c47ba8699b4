// issue 12 part 5: kernel- and network-supplied text (comm, pod, gap reason,
// node) is shown escaped in every human output, exact in JSON; and one time
// zone rule (UTC unless --local) for every human time.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { formatAlertText } from "../../src/alert/mod.js";
import { EventKind, Role, Severity, TcpState, v1, type ConnEvent } from "../../src/model/mod.js";
import { formatCompact } from "../../src/observe/mod.js";
import { escapeControl, escapeStrings } from "../../src/text/escape.js";
import { formatHumanTime } from "../../src/text/human-time.js";
import { eventToJson, renderTimeline, renderTraceTable, renderWhy, traceToJson, whySentence } from "../../src/query/mod.js";
import { decodeBatch, encodeBatch } from "../../src/transport/mod.js";
import { NODE, meshTrace, stateEvent } from "../store/fixtures.js";

// ESC[2J clears the screen; U+202E reverses what follows; a newline forges a line.
const EVIL = "x\u001b[2Jy\u202ez\nw";
const EVIL_SHOWN = "x\\x1b[2Jy\\u202ez\\x0aw";
/** What must never reach a terminal raw (newlines are checked per line). */
const RAW = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

/** Every line free of raw controls, and the evil text shown visibly at least once. */
function expectSafe(out: string, lines?: number): void {
  expect(out).not.toMatch(RAW);
  expect(out).toContain(EVIL_SHOWN);
  if (lines !== undefined) expect(out.split("\n")).toHaveLength(lines);
}

const START = 1_714_557_600_000_000; // 2024-05-01T10:00:00Z

function evilTrace() {
  const t = meshTrace({ id: "e1", startUs: START, podA: EVIL, podB: EVIL });
  for (const h of t.hops) {
    h.client!.comm = EVIL;
    h.server!.comm = EVIL;
  }
  t.resetOrigin!.comm = EVIL;
  t.explanation = `app ${EVIL} reset`;
  return traceToJson(t);
}

describe("escapeControl", () => {
  it("shows C0, DEL, C1 and bidi controls as visible escapes and leaves other text alone", () => {
    expect(escapeControl("\u001b[2J")).toBe("\\x1b[2J");
    expect(escapeControl("a\tb\rc\u007fd\u0080e\u009bf")).toBe("a\\x09b\\x0dc\\x7fd\\x80e\\x9bf");
    expect(escapeControl("\u202a\u202e\u2066\u2069")).toBe("\\u202a\\u202e\\u2066\\u2069");
    expect(escapeControl("haproxy ──▶ µs ✖ ü 127.0.0.1:80")).toBe("haproxy ──▶ µs ✖ ü 127.0.0.1:80");
    // Escaping twice changes nothing: the backslash it adds is not a control.
    expect(escapeControl(escapeControl(EVIL))).toBe(EVIL_SHOWN);
  });

  it("escapes every string of a JSON-shaped value, not numbers or nulls", () => {
    expect(escapeStrings({ a: [EVIL, 1, null], b: { c: EVIL } })).toEqual({ a: [EVIL_SHOWN, 1, null], b: { c: EVIL_SHOWN } });
  });
});

describe("every human output escapes what the kernel and the network named", () => {
  it("traces table", () => {
    expectSafe(renderTraceTable([evilTrace()]), 2);
  });

  it("why: chain, sentence and explanation", () => {
    const t = evilTrace();
    const out = renderWhy(t);
    expectSafe(out, 1 + t.hops.length + 2);
    expectSafe(whySentence(t));
  });

  it("timeline: node, pod, process and gap reason", () => {
    const e = eventToJson(EVIL, { ...stateEvent({ sock: "s1", tNs: START * 1000, local: ["10.0.0.1", 1], remote: ["10.0.0.2", 2], from: TcpState.TCP_STATE_CLOSE, to: TcpState.TCP_STATE_SYN_SENT, pod: EVIL }) });
    const c = eventToJson(NODE, { seq: 9, tsNs: 2_000n, timeUs: START + 5, kind: EventKind.EVENT_KIND_SYSCALL_CONNECT, ret: 0, fd: 3, process: { pid: 9, tid: 9, comm: EVIL } });
    const g = eventToJson(NODE, { seq: 10, tsNs: 3_000n, timeUs: START + 6, kind: EventKind.EVENT_KIND_GAP, lost: 1, gapReason: EVIL });
    const out = renderTimeline({ events: [e, c, g], traces: [evilTrace()], truncated: false });
    expectSafe(out, 1 + 1 + 3);
    // node + pod, the process, the gap reason: one line each.
    expect(out.split("\n").filter((l) => l.includes(EVIL_SHOWN))).toHaveLength(3);
  });

  it("observe compact line", () => {
    const ev: ConnEvent = decodeBatch(
      encodeBatch({ node: EVIL, bootId: "b", agentStartUs: 1 }, [
        { seq: 1, timeUs: START, tsNs: 1n, kind: EventKind.EVENT_KIND_SYSCALL_CLOSE, pod: EVIL, fd: 3, process: { pid: 5, tid: 5, comm: EVIL }, role: Role.ROLE_APP },
      ]),
    ).events[0]!;
    const line = formatCompact(EVIL, ev);
    expectSafe(line, 1);
    expect(line.split(EVIL_SHOWN)).toHaveLength(4); // node, pod, process
    const gap = decodeBatch(encodeBatch({ node: "n", bootId: "b", agentStartUs: 1 }, [{ seq: 2, timeUs: START, tsNs: 2n, kind: EventKind.EVENT_KIND_GAP, lost: 1, gapReason: EVIL }])).events[0]!;
    expectSafe(formatCompact("n", gap), 1);
  });

  it("alert line", () => {
    const a = v1.Alert.create({ alertId: "a1", rule: "r", severity: Severity.SEVERITY_CRITICAL, traceId: "t", explanation: EVIL, timeUs: START, count: 1, sourcePod: EVIL, destination: "10.0.0.2:80" });
    expectSafe(formatAlertText(a), 1);
  });

  it("JSON keeps the exact text (JSON.stringify escapes C0 itself; scripts get the bytes)", () => {
    const t = evilTrace();
    const line = JSON.stringify(t);
    expect(JSON.parse(line).hops[0].client.comm).toBe(EVIL);
    expect(line).not.toMatch(/[\u0000-\u001f]/);
    expect(line).toContain("\\u001b[2J");
  });
});

describe("one time zone rule: UTC unless local", () => {
  const saved = process.env.TZ;
  // A zone with a half-hour offset and no DST: local and UTC can never be mistaken for each other.
  beforeEach(() => {
    process.env.TZ = "Asia/Kolkata";
  });
  afterEach(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });

  it("formats UTC by default and the local zone on request", () => {
    expect(formatHumanTime(START + 7)).toBe("10:00:00.000007");
    expect(formatHumanTime(START + 7, { date: true })).toBe("2024-05-01 10:00:00.000007Z");
    expect(formatHumanTime(START + 7, { local: true })).toBe("15:30:00.000007");
    expect(formatHumanTime(START + 7, { local: true, date: true })).toBe("2024-05-01 15:30:00.000007+05:30");
    expect(formatHumanTime(0)).toBe("-");
  });

  it("every renderer follows it", () => {
    const t = traceToJson(meshTrace({ id: "z", startUs: START }));
    expect(renderTraceTable([t]).split("\n")[1]).toMatch(/^10:00:00\.000 /);
    expect(renderTraceTable([t], { local: true }).split("\n")).toEqual([
      expect.stringMatching(/^START \(local\) /),
      expect.stringMatching(/^15:30:00\.000 /),
    ]);
    const e = eventToJson(NODE, stateEvent({ sock: "s", tNs: START * 1000, local: ["10.0.0.1", 1], remote: ["10.0.0.2", 2], from: TcpState.TCP_STATE_CLOSE, to: TcpState.TCP_STATE_SYN_SENT }));
    const tl = { events: [e], traces: [], truncated: false };
    expect(renderTimeline(tl).split("\n")[2]).toMatch(/^10:00:00\.000000 /);
    expect(renderTimeline(tl, { local: true }).split("\n").slice(1, 3)).toEqual([
      expect.stringMatching(/^TIME \(local\) /),
      expect.stringMatching(/^15:30:00\.000000 /),
    ]);
    const ev = decodeBatch(encodeBatch({ node: "n", bootId: "b", agentStartUs: 1 }, [{ seq: 1, timeUs: START, tsNs: 1n, kind: EventKind.EVENT_KIND_STATE_CHANGE }])).events[0]!;
    expect(formatCompact("n", ev)).toMatch(/^10:00:00\.000000 /);
    expect(formatCompact("n", ev, { local: true })).toMatch(/^15:30:00\.000000 /);
    const a = v1.Alert.create({ alertId: "a", rule: "r", severity: Severity.SEVERITY_INFO, timeUs: START, count: 1 });
    expect(formatAlertText(a)).toMatch(/^2024-05-01 10:00:00\.000000Z /);
    expect(formatAlertText(a, { local: true })).toMatch(/^2024-05-01 15:30:00\.000000\+05:30 /);
  });
});
