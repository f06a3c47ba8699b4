import { describe, expect, it } from "vitest";
import { EventKind, Outcome, ResetReason, Role, TcpState, v1 } from "../../src/model/mod.js";
import {
  eventToJson,
  formatTimeUs,
  parseTarget,
  renderTimeline,
  painter,
  stripColor,
  renderTraceTable,
  renderWhy,
  traceToJson,
  whySentence,
} from "../../src/query/mod.js";
import { parseTimeUs } from "../../src/timefmt/mod.js";
import { A, B, NODE, meshTrace, resetSent, stateEvent } from "../store/fixtures.js";
import { scenarioInboundRetries, scenarioRejectRetries } from "../trace/helpers/scenarios.js";
import { done, pooledLab, reuse, scenarioKeepaliveRace } from "../trace/helpers/pooled.js";
import { stitch } from "../trace/helpers/stitch.js";

const START = 1_714_557_600_000_000; // 2024-05-01T10:00:00Z

describe("renderWhy", () => {
  it("draws the chain and names where the reset began and why", () => {
    const out = renderWhy(traceToJson(meshTrace({ id: "3f2a", startUs: START })));
    const lines = out.split("\n");
    expect(lines[0]).toBe("trace 3f2a RESET_BY_SERVER  (3 hops, 12.4 ms)");
    // Each row starts with its hop number: the number the sentences below use.
    expect(lines[1]).toMatch(/^ {2}1 {2}app tt-a node\(812\) 10\.88\.0\.2:40000 +──▶ {2}sidecar tt-a haproxy\(600\) 127\.0\.0\.1:15001 +orig dst 10\.88\.0\.3:8080 +FIN by server$/);
    expect(lines[2]).toMatch(/^ {2}2 {2}sidecar tt-a haproxy\(600\) 10\.88\.0\.2:50000 +──▶ +sidecar tt-b haproxy\(700\) 10\.88\.0\.3:15006 .*FIN by server$/);
    expect(lines[3]).toMatch(/^ {2}3 {2}sidecar tt-b haproxy\(700\) 127\.0\.0\.6:30000 +──▶ +app tt-b node\(901\) 10\.88\.0\.3:8080 +✖ RST by server \(TCP_ABORT_ON_CLOSE\)$/);
    // The hop 3 server is where it was going anyway: no "orig dst" there.
    expect(lines[3]).not.toContain("orig dst");
    expect(lines[4]).toBe(
      "why: app tt-b (node, pid 901) reset the connection on hop 3 (kernel reason TCP_ABORT_ON_CLOSE); relayed as FIN on hops 1, 2.",
    );
    expect(lines[5]).toBe("     app tt-b (pid 901) reset the connection");
  });

  it("blames a sidecar when the failure began there", () => {
    const t = traceToJson(meshTrace({ id: "x", startUs: START, originRole: Role.ROLE_SIDECAR }));
    t.reset_origin_hop = 2;
    t.hops[1]!.reset_by = "server";
    t.hops[1]!.reset_reason = "TCP_ABORT_ON_DATA";
    t.hops[2]!.reset_by = null;
    t.hops[2]!.first_fin_by = "client";
    expect(whySentence(t)).toBe(
      "sidecar tt-b (haproxy, pid 700) reset the connection on hop 2 (kernel reason TCP_ABORT_ON_DATA); relayed as FIN on hops 1, 3.",
    );
  });

  it("says what refused, untraced resets and lost events mean", () => {
    const refused = traceToJson(meshTrace({ id: "r", startUs: START, outcome: Outcome.OUTCOME_REFUSED }));
    refused.reset_origin_hop = 3;
    refused.hops[2]!.reset_by = null;
    refused.hops[2]!.reset_reason = "NO_SOCKET";
    expect(whySentence(refused)).toBe(
      "nothing listened on 10.88.0.3:8080 in tt-b: the SYN from sidecar tt-b (haproxy, pid 700) on hop 3 was refused (kernel reason NO_SOCKET).",
    );
    expect(renderWhy(refused)).toContain("✖ refused (NO_SOCKET)");
    // Stored before the sender was recorded: only the hop is known.
    const untraced = traceToJson(meshTrace({ id: "u", startUs: START, outcome: Outcome.OUTCOME_RESET_UNTRACED }));
    untraced.reset_origin = null;
    untraced.reset_origin_hop = null;
    untraced.hops[2]!.reset_by = null;
    expect(whySentence(untraced)).toBe(
      "a RST that no traced socket sent arrived on hop 3 (127.0.0.6:30000 → 10.88.0.3:8080): a middlebox or an iptables REJECT sent it.",
    );
    const lost = traceToJson(meshTrace({ id: "l", startUs: START, outcome: Outcome.OUTCOME_INCOMPLETE }));
    expect(whySentence(lost)).toBe("events were lost while this connection was traced, so its outcome is not guessed.");
  });
});

describe("renderWhy for a RST no traced socket sent", () => {
  it("names the sender on the wire (network, its pod) and the receiver with its process, on the origin hop", () => {
    const t = meshTrace({ id: "n", startUs: START, outcome: Outcome.OUTCOME_RESET_UNTRACED });
    const receiver = t.hops[1]!.client!;
    t.resetOrigin = v1.HopEndpoint.create({ ip: B, port: 8080, pod: "tt-b", role: Role.ROLE_NETWORK });
    t.resetReceiver = receiver;
    t.resetOriginHop = 2;
    t.hops[1]!.resetBy = "none";
    const json = traceToJson(t);
    expect(json.reset_origin).toMatchObject({ ip: B, port: 8080, pod: "tt-b", role: "NETWORK", pid: null, comm: null });
    expect(json.reset_receiver).toMatchObject({ pod: "tt-a", role: "SIDECAR", pid: 600, comm: "haproxy" });
    expect(whySentence(json)).toBe(
      "a RST from 10.88.0.3:8080 (pod tt-b) reached sidecar tt-a (haproxy, pid 600) on hop 2: no traced socket sent it (the network path: an iptables REJECT rule or a middlebox).",
    );
    expect(renderWhy(json).split("\n")[2]).toMatch(/^ {2}2 .*✖ RST from the network \(no traced socket\)$/);
    expect(renderTraceTable([json]).split("\n")[1]).toMatch(/ network tt-b 10\.88\.0\.3:8080 \(hop 2\)$/);
  });
});

describe("renderWhy and the traces table for a proxy's retries", () => {
  /** The one trace with retries the real stitcher makes of a retry scenario, as the API returns it. */
  const retried = (recs: Parameters<typeof stitch>[0]) => {
    const mine = stitch(recs).traces.filter((t) => t.hops.some((h) => (h.attempt ?? 0) > 1));
    expect(mine).toHaveLength(1);
    return traceToJson(mine[0]!);
  };

  it("numbers each attempt on the chain and names the last one where the failure began", () => {
    const t = retried(scenarioInboundRetries(["refused", "refused", "refused"]));
    expect(t.hops.map((h) => [h.attempt, h.attempts])).toEqual([[1, 1], [1, 1], [1, 3], [2, 3], [3, 3]]);
    const lines = renderWhy(t).split("\n");
    // Hops that are not retries leave the attempt column empty.
    expect(lines[1]).toMatch(/^ {2}1 {2}\s{14} {2}app tt-a /);
    expect(lines[3]).toMatch(/^ {2}3 {2}attempt 1 of 3 {2}sidecar tt-b haproxy\(741\) 127\.0\.0\.6:41003 .*RST by server \(NO_SOCKET\)$/);
    expect(lines[4]).toMatch(/^ {2}4 {2}attempt 2 of 3 {2}sidecar tt-b .*127\.0\.0\.6:41005 /);
    expect(lines[5]).toMatch(/^ {2}5 {2}attempt 3 of 3 {2}sidecar tt-b .*127\.0\.0\.6:41007 .*✖ RST by server \(NO_SOCKET\)$/);
    expect(whySentence(t)).toBe(
      "nothing listened on 10.88.0.3:8080 in tt-b: the SYN from sidecar tt-b (haproxy, pid 741) on hop 5 (attempt 3 of 3) was refused (kernel reason NO_SOCKET).",
    );
    expect(renderTraceTable([t]).split("\n")[1]).toMatch(/ \(hop 5, attempt 3 of 3\)$/);
  });

  it("says which attempt a RST no traced socket sent reached", () => {
    const t = retried(scenarioRejectRetries(3));
    expect(whySentence(t)).toMatch(/^a RST from 10\.88\.0\.3:8080 \(pod tt-b\) reached sidecar tt-a \(haproxy, pid 640\) on hop 4 \(attempt 3 of 3\): /);
    expect(renderTraceTable([t]).split("\n")[1]).toMatch(/ network tt-b 10\.88\.0\.3:8080 \(hop 4, attempt 3 of 3\)$/);
  });

  it("does not count replaced attempts as relays of a reset on the last one", () => {
    // Two refusals, then app b takes the connection and resets it.
    const t = retried(scenarioInboundRetries(["refused", "refused", "ok"]));
    const last = t.hops[4]!;
    t.outcome = "RESET_BY_SERVER";
    t.reset_origin = last.server;
    t.reset_origin_hop = last.index;
    Object.assign(last, { reset_by: "server", reset_reason: "TCP_ABORT_ON_CLOSE", first_fin_by: null });
    for (const h of t.hops.slice(0, 2)) h.first_fin_by = "server";
    expect(whySentence(t)).toBe(
      "app tt-b (node, pid 913) reset the connection on hop 5 (attempt 3 of 3) (kernel reason TCP_ABORT_ON_CLOSE); relayed as FIN on hops 1, 2.",
    );
  });

  it("names a retry without its total when the trace was stored before totals were recorded", () => {
    const t = meshTrace({ id: "r2", startUs: START });
    t.hops[2]!.attempt = 2;
    const json = traceToJson(t);
    expect(json.hops[2]).toMatchObject({ attempt: 2, attempts: null });
    expect(json.hops[0]).toMatchObject({ attempt: 1, attempts: 1 });
    expect(whySentence(json)).toMatch(/ reset the connection on hop 3 \(attempt 2\) /);
    expect(renderWhy(json).split("\n")[3]).toMatch(/^ {2}3 {2}attempt 2 {2}sidecar tt-b /);
  });
});

describe("traceToJson", () => {
  it("numbers hops from 1 even for traces stored when they were numbered from 0", () => {
    const t = meshTrace({ id: "old", startUs: START });
    t.hops.forEach((h, i) => (h.index = i));
    t.resetOriginHop = 2;
    const json = traceToJson(t);
    expect(json.hops.map((h) => h.index)).toEqual([1, 2, 3]);
    expect(json.reset_origin_hop).toBe(3);
    expect(whySentence(json)).toMatch(/ reset the connection on hop 3 .*relayed as FIN on hops 1, 2\.$/);
  });

  it("uses null, not empty values, for what is unknown", () => {
    const t = traceToJson({ traceId: "open", outcome: Outcome.OUTCOME_OPEN, startUs: START, hops: [{ index: 1, client: { ip: A, port: 1 } }] });
    expect(t).toMatchObject({ end: null, duration_ms: null, reset_origin: null, reset_origin_hop: null, reset_receiver: null, first_close_hop: null });
    expect(t.hops[0]!.server).toEqual({
      ip: null, port: null, pod: null, netns: null, role: null, leg: null, pid: null, comm: null, uid: null, node: null, socket_id: null, labels: null,
    });
    expect(t.hops[0]).toMatchObject({ original_destination: null, opened_by: null, reset_reason: null, outcome: "UNSPECIFIED" });
  });
});

describe("renderTraceTable", () => {
  it("lines up one row per trace", () => {
    const out = renderTraceTable([
      traceToJson(meshTrace({ id: "aaaa", startUs: START + 1500 })),
      traceToJson(meshTrace({ id: "b", k: 7, startUs: START, outcome: Outcome.OUTCOME_COMPLETED, podA: "web-7" })),
    ]);
    const lines = out.split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^START \(UTC\) +TRACE +OUTCOME +HOPS +DURATION +FROM +TO +ORIGIN$/);
    expect(lines[1]).toMatch(/^10:00:00\.001 +aaaa +RESET_BY_SERVER +3 +12\.4 ms +app tt-a node\(812\) 10\.88\.0\.2:40000 +10\.88\.0\.3:8080 +app tt-b node\(901\) \(hop 3\)$/);
    expect(lines[2]!.indexOf("COMPLETED")).toBe(lines[1]!.indexOf("RESET_BY_SERVER"));
    expect(renderTraceTable([])).toBe("no traces");
  });
});

describe("renderTimeline and eventToJson", () => {
  it("shows deltas from the first and the previous event", () => {
    const ev = [
      stateEvent({ sock: "s1", tNs: START * 1000, local: [A, 1], remote: [B, 80], from: TcpState.TCP_STATE_CLOSE, to: TcpState.TCP_STATE_SYN_SENT, pod: "tt-a" }),
      stateEvent({ sock: "s2", tNs: START * 1000 + 250_000, local: [B, 80], remote: [A, 1], from: TcpState.TCP_STATE_LISTEN, to: TcpState.TCP_STATE_SYN_RECV, pod: "tt-b" }),
      resetSent({ sock: "s2", tNs: START * 1000 + 3_250_000, local: [B, 80], remote: [A, 1], reason: ResetReason.RESET_REASON_TCP_ABORT_ON_CLOSE }),
    ].map((e) => eventToJson(NODE, e));
    expect(ev[2]).toMatchObject({ kind: "RESET_SENT", reset_reason: "TCP_ABORT_ON_CLOSE", ret: null, time: "2024-05-01T10:00:00.003250Z" });
    const out = renderTimeline({ events: ev, traces: [], truncated: false }).split("\n");
    expect(out[0]).toBe("3 events; not part of a stored trace");
    expect(out[2]).toMatch(/^10:00:00\.000000 +0\.000 +0\.000 +n1 +tt-a +s1 +10\.88\.0\.2:1 +10\.88\.0\.3:80 +CLOSE → SYN_SENT$/);
    expect(out[3]).toMatch(/ 0\.250 +0\.250 .*LISTEN → SYN_RECV$/);
    expect(out[4]).toMatch(/ 3\.250 +3\.000 .*RST sent, reason TCP_ABORT_ON_CLOSE$/);
  });

  it("prints the same fields one line per event with -o compact, and paints resets only when asked", () => {
    const ev = [
      stateEvent({ sock: "s1", tNs: START * 1000, local: [A, 1], remote: [B, 80], from: TcpState.TCP_STATE_CLOSE, to: TcpState.TCP_STATE_SYN_SENT, pod: "tt-a" }),
      resetSent({ sock: "s2", tNs: START * 1000 + 3_250_000, local: [B, 80], remote: [A, 1], reason: ResetReason.RESET_REASON_TCP_ABORT_ON_CLOSE }),
    ].map((e) => eventToJson(NODE, e));
    const compact = renderTimeline({ events: ev, traces: [], truncated: false }, { layout: "compact" }).split("\n");
    expect(compact).toHaveLength(3);
    expect(compact[1]).toBe("10:00:00.000000 0.000 0.000 n1 tt-a s1 10.88.0.2:1 10.88.0.3:80 CLOSE → SYN_SENT");
    expect(compact[2]).toMatch(/ 3\.250 3\.250 n1 .* RST sent, reason TCP_ABORT_ON_CLOSE$/);
    const table = renderTimeline({ events: ev, traces: [], truncated: false });
    const coloured = renderTimeline({ events: ev, traces: [], truncated: false }, { paint: painter(true) });
    expect(coloured).toContain("\x1b[31mRST sent, reason TCP_ABORT_ON_CLOSE\x1b[0m");
    expect(stripColor(coloured)).toBe(table);
  });

  it("fills syscall and gap fields only for those kinds", () => {
    const c = eventToJson(NODE, { seq: 1, tsNs: 1_000n, kind: EventKind.EVENT_KIND_SYSCALL_CONNECT, ret: -111, fd: 5, target: { ip: B, port: 8080 }, process: { pid: 9, tid: 9, comm: "curl" } });
    expect(c).toMatchObject({ kind: "SYSCALL_CONNECT", ret: -111, fd: 5, target: "10.88.0.3:8080", process: { pid: 9, comm: "curl" }, lost: null });
    const g = eventToJson(NODE, { seq: 2, tsNs: 2_000n, kind: EventKind.EVENT_KIND_GAP, lost: 42, gapReason: "perf buffer" });
    expect(g).toMatchObject({ lost: 42, gap_reason: "perf buffer", ret: null, fd: null });
    expect(renderTimeline({ events: [c, g], traces: [], truncated: true })).toMatch(/curl\(9\) connect\(10\.88\.0\.3:8080\) = -111[\s\S]*GAP: 42 events lost \(perf buffer\)[\s\S]*truncated/);
  });

  it("says when a timeline was rebuilt from the trace because raw events aged out", () => {
    const c = eventToJson(NODE, { seq: 0, tsNs: 1_000n, kind: EventKind.EVENT_KIND_STATE_CHANGE, oldState: 7, newState: 2 });
    expect(renderTimeline({ events: [c], traces: [], truncated: false, summarized: true })).toMatch(/summarized: raw events older than/);
    expect(renderTimeline({ events: [c], traces: [], truncated: false })).not.toMatch(/summarized/);
  });
});

describe("parameters", () => {
  const now = 1_000_000_000_000_000;
  // Parsing is the time grammar's (test/timefmt); what it prints must parse back.
  it("prints times as RFC 3339 with microseconds that the time grammar reads back", () => {
    expect(formatTimeUs(START + 7)).toBe("2024-05-01T10:00:00.000007Z");
    expect(parseTimeUs(formatTimeUs(START + 7)!, { option: "since", nowUs: now })).toBe(START + 7);
  });

  it("tells trace ids, endpoints and socket ids apart", () => {
    expect(parseTarget("10.88.0.3:8080")).toEqual({ kind: "endpoint", ip: "10.88.0.3", port: 8080 });
    expect(parseTarget("[fd00::1]:443")).toEqual({ kind: "endpoint", ip: "fd00::1", port: 443 });
    expect(parseTarget("n1/ffff8881/123")).toEqual({ kind: "socket", socketId: "n1/ffff8881/123" });
    expect(parseTarget("3f2a9c")).toEqual({ kind: "trace", traceId: "3f2a9c" });
    expect(parseTarget("10.0.0.1:99999")).toEqual({ kind: "trace", traceId: "10.0.0.1:99999" });
  });
});

describe("pooled hops and the keep-alive race in why and JSON", () => {
  it("why names who closed the idle connection, the numbers, the reason and whom the sidecar failed; JSON carries the facts", () => {
    const { traces } = stitch(scenarioKeepaliveRace().p.lab.records);
    const raw = traces.find((t) => t.outcome === Outcome.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE)!;
    const t = traceToJson(raw);
    expect(t.outcome).toBe("UPSTREAM_IDLE_CLOSE_RACE");
    expect(t.race).toEqual({
      idle_us: raw.race!.idleUs,
      gap_us: raw.race!.gapUs,
      reset_reason: "TCP_ABORT_ON_DATA",
      shared_hop: 2,
      first_close_hop: 3,
      first_close_by: "server",
    });
    expect(t.hops.map((h) => [h.shared, h.link_confidence])).toEqual([
      [false, null],
      [true, "CERTAIN"],
      [true, "CERTAIN"],
    ]);
    expect(t.hops[1]!.use_start_us).toBe(raw.hops[1]!.useStartUs);
    expect(t.hops[1]!.use_end).toBe(formatTimeUs(raw.hops[1]!.useEndUs!));
    expect(whySentence(t)).toBe(
      `app tt-b (node, pid 913) closed its idle keep-alive connection on hop 3 (idle ${(raw.race!.idleUs! / 1e6).toFixed(2)} s) ${raw.race!.gapUs} µs before ` +
        `sidecar tt-a (haproxy, pid 640) reused it (hop 2) for a request from app tt-a (node, pid 812); the request met a RST (kernel reason TCP_ABORT_ON_DATA); ` +
        `sidecar tt-a (haproxy, pid 640) returned an error on hop 1.`,
    );
    const out = renderWhy(t);
    expect(out).toContain("trace " + raw.traceId + " UPSTREAM_IDLE_CLOSE_RACE");
    expect(out.split("\n").filter((l) => /\bshared\b/.test(l))).toHaveLength(2);
    expect(out).toContain(raw.explanation);
  });

  it("marks an ambiguous shared hop in the chain; a trace without shared hops has no such column", () => {
    const p = pooledLab();
    done(p, p.downs[0]!);
    const d2 = reuse(p, 41101, { sources: 3 });
    const t = traceToJson(stitch(p.lab.records).traces.find((x) => x.hops[0]!.client!.port === d2.c.local.port)!);
    expect(renderWhy(t)).toContain("shared, link ambiguous");
    const plain = renderWhy(traceToJson(meshTrace({ id: "3f2a", startUs: START })));
    expect(plain).not.toContain("shared");
    expect(traceToJson(meshTrace({ id: "3f2a", startUs: START })).race).toBeNull();
  });
});
