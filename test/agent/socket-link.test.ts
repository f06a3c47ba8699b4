// SOCKET_LINK (issue 10) from the probe's L line to what users read: the
// agent passes the sidecar UID to the probe, orders and attributes the link
// like any process-context event, the consumer keeps it, the store's event
// ring holds it whole, timelines and `observe` say what it means, and the
// stitcher (which does not build shared hops from it yet) is not disturbed.
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { synthesizeChurnRecording } from "../../bench/synthetic-churn.js";
import { DEFAULT_SIDECAR_UID, EventPipeline } from "../../src/agent/mod.js";
import { insaneReason } from "../../src/consumer/event-sanity.js";
import { EventKind, Role, SidecarLeg, v1, type ConnEvent, type ConnEventInit } from "../../src/model/mod.js";
import { formatCompact } from "../../src/observe/format.js";
import { programArgs, selfExclusionArgs } from "../../src/probes/mod.js";
import { eventToJson, renderTimeline } from "../../src/query/mod.js";
import { SqliteTraceStore, type EventSource } from "../../src/store/mod.js";
import { Stitcher } from "../../src/trace/mod.js";
import { decodeBatch, encodeBatch } from "../../src/transport/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";

const source: EventSource = { node: "node-1", bootId: "boot-1", agentStartUs: 1_764_000_000_000_000 };

/** Events released by an in-thread pipeline fed `lines`, decoded as the consumer reads them. */
function throughAgent(lines: readonly string[], sidecarUid = DEFAULT_SIDECAR_UID): { released: ConnEventInit[]; decoded: ConnEvent[]; pipeline: EventPipeline } {
  const released: ConnEventInit[] = [];
  const pipeline = new EventPipeline({
    settings: { node: source.node, mesh: { sidecarUid } },
    sink: (evs) => released.push(...evs),
    pods: { resolve: (ns) => (ns === 4026532301 ? "tt-a" : "") },
  });
  for (const l of lines) pipeline.feedLine(l);
  pipeline.stopSync();
  return { released, decoded: [...decodeBatch(encodeBatch(source, released)).events], pipeline };
}

// A sidecar (pid 640, UID 1337, pod tt-a) accepts app A's connection on its
// outbound listener, dials the upstream once, and forwards: the request's link
// (upstream <- downstream) and the answer's (downstream <- upstream). The two
// link lines arrive out of order (another CPU's buffer), within the window.
const NS = 4026532301;
const POOLED = [
  // The program's start: the agent's wall clock for the kernel's.
  "B 900000",
  `C 1000000 ffffa0 640 641 -115 7 4 10.88.0.3 8080 2 4 990000 0 4 10.88.0.2 41000 10.88.0.3 8080 ${NS} 1337 haproxy`,
  `A 1100000 ffffb0 640 641 9 1 10 1050000 1060000 4 127.0.0.1 15001 127.0.0.1 52000 ${NS} 1337 haproxy`,
  `S 1150000 ffffa0 2 1`,
  `L 1300000 ffffb0 ffffa0 640 641 1 haproxy`,
  `L 1200000 ffffa0 ffffb0 640 641 1 haproxy`,
  // A pooled upstream the probe never saw open (older than the agent): its first link names its owner.
  `L 1400000 ffffc0 ffffb0 640 642 2 haproxy`,
];

describe("the probe's parameters", () => {
  test("$7 is the link UID after the six of self-exclusion; zeros stand in for them when nothing is ours", () => {
    const self = { pid: 42, ports: [7070] };
    expect(programArgs({ exclude: self, linkUid: 1337 })).toEqual([...selfExclusionArgs(self), "1337"]);
    expect(programArgs({ exclude: undefined, linkUid: 1337 })).toEqual(["0", "0", "0", "0", "0", "0", "1337"]);
    // No links: the parameters are what they were before links existed.
    expect(programArgs({ exclude: self, linkUid: 0 })).toEqual(selfExclusionArgs(self));
    expect(programArgs({ exclude: undefined, linkUid: 0 })).toEqual([]);
    expect(() => programArgs({ exclude: undefined, linkUid: -1 })).toThrow(/link uid/);
    expect(() => programArgs({ exclude: undefined, linkUid: 2 ** 32 })).toThrow(/link uid/);
  });
});

describe("a SOCKET_LINK through the agent", () => {
  test("is released in kernel order, attributed like its socket, with its thread as the process", () => {
    const { released, pipeline } = throughAgent(POOLED);
    const links = released.filter((e) => e.kind === EventKind.EVENT_KIND_SOCKET_LINK);
    expect(links.map((e) => [e.tsNs, e.sock, e.linkedSock, e.linkSources])).toEqual([
      [1_200_000n, "ffffa0", "ffffb0", 1],
      [1_300_000n, "ffffb0", "ffffa0", 1],
      [1_400_000n, "ffffc0", "ffffb0", 2],
    ]);
    const [up, down] = links;
    // The upstream: its tuple, pod, UID and sidecar role, its owner the connect()'s process.
    expect(up).toMatchObject({ local: { ip: "10.88.0.2", port: 41000 }, remote: { ip: "10.88.0.3", port: 8080 }, pod: "tt-a", uid: 1337, netns: NS });
    expect(up!.role).toBe(Role.ROLE_SIDECAR);
    expect(up!.leg).toBe(SidecarLeg.SIDECAR_LEG_UPSTREAM);
    expect(up!.owner).toMatchObject({ pid: 640, tid: 641 });
    expect(up!.process).toMatchObject({ pid: 640, tid: 641, comm: "haproxy" });
    expect(down).toMatchObject({ local: { ip: "127.0.0.1", port: 15001 }, leg: SidecarLeg.SIDECAR_LEG_OUTBOUND_LISTENER });
    expect(released.map((e) => e.seq)).toEqual(released.map((_, i) => i + 1));
    expect(released.map((e) => e.tsNs)).toEqual([...released.map((e) => e.tsNs)].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(pipeline.stats().malformedLines).toBe(0);
    // Unannounced socket: no tuple to copy, counted unattributed, still delivered whole.
    expect(links[2]!.local).toBeUndefined();
    expect(pipeline.stats().unattributed).toBe(1);
  });

  test("names the owner of a socket it is the first process-context event of", () => {
    // An upstream whose opening was seen but not its connect() (a line the probe never printed): the link's thread owns it.
    const { released } = throughAgent([
      ...POOLED,
      `O 1050000 ffffd0 2 1 4 10.88.0.2 41999 10.88.0.3 8080 ${NS} 1337 4 1040000 0`,
      "L 1450000 ffffd0 ffffb0 640 643 1 haproxy",
    ]);
    const events = released.filter((e) => e.sock === "ffffd0");
    expect(events.map((e) => e.kind)).toEqual([EventKind.EVENT_KIND_STATE_CHANGE, EventKind.EVENT_KIND_STATE_CHANGE, EventKind.EVENT_KIND_SOCKET_LINK]);
    // Even the events before the link in time: owners are noted as lines arrive, applied as events leave the window.
    for (const e of events) expect(e.owner).toMatchObject({ pid: 640, tid: 643, comm: "haproxy" });
  });

  test("is what the consumer accepts, unless its linked socket is no socket address", () => {
    const { decoded } = throughAgent(POOLED);
    const links = decoded.filter((e) => e.kind === EventKind.EVENT_KIND_SOCKET_LINK);
    expect(links).toHaveLength(3);
    for (const e of decoded) expect(insaneReason(e)).toBeNull();
    // A decoded message keeps its defaults on its prototype: change the field in place.
    const link = links[0]!;
    link.linkedSock = "ffff-<script>";
    expect(insaneReason(link)).toBe("linked_sock");
    link.linkedSock = "f".repeat(33);
    expect(insaneReason(link)).toBe("linked_sock");
  });

  test("reads as a sentence in timelines, JSON and observe", () => {
    const { decoded } = throughAgent(POOLED);
    const [up, , guess] = decoded.filter((e) => e.kind === EventKind.EVENT_KIND_SOCKET_LINK);
    const json = eventToJson(source.node, up!);
    expect(json).toMatchObject({ kind: "SOCKET_LINK", sock: "ffffa0", linked_sock: "ffffb0", link_sources: 1, process: { pid: 640, tid: 641, comm: "haproxy" } });
    // Other kinds keep the same keys, null.
    const other = eventToJson(source.node, decoded.find((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_CONNECT)!);
    expect([other.linked_sock, other.link_sources]).toEqual([null, null]);
    const table = renderTimeline({ events: [json, eventToJson(source.node, guess!)], traces: [], truncated: false });
    expect(table).toContain("haproxy(640) sent data read from ffffb0");
    expect(table).toContain("(the last of 2 sockets it read: a guess)");
    const line = formatCompact(source.node, up!);
    expect(line).toContain("SOCKET_LINK");
    expect(line).toMatch(/linked=ffffb0 sources=1 process=haproxy\(640\/641\)/);
  });
});

describe("downstream of the agent", () => {
  let tmp: TempDir;
  let store: SqliteTraceStore;
  beforeEach(async () => {
    tmp = await makeTempDir("socket-link");
    store = new SqliteTraceStore({ path: join(tmp.path, "tcptrail.db") });
  });
  afterEach(async () => {
    try {
      await store.close();
    } finally {
      await tmp.remove();
    }
  });

  test("the store's event ring keeps a link whole: a timeline of its socket returns it", async () => {
    const { decoded } = throughAgent(POOLED);
    await store.putEvents(source, decoded);
    const tl = await store.timeline({ ip: "10.88.0.2", port: 41000 });
    const links = tl.events.filter((e) => e.event.kind === EventKind.EVENT_KIND_SOCKET_LINK);
    expect(links.map((e) => [e.event.sock, e.event.linkedSock, e.event.linkSources, e.event.process?.tid])).toEqual([["ffffa0", "ffffb0", 1, 641]]);
  });

  test("the stitcher builds the same traces with links in the stream, and does not throw", () => {
    const churn = synthesizeChurnRecording({ pairs: 200, rstShare: 0.5, startNs: 5_000_000_000n });
    // Links between churn sockets, sprinkled through the stream (every 25th line).
    const socks = churn.map((l) => l.split(" ")).filter((f) => f[0] === "C" || f[0] === "A").map((f) => f[2]!);
    const withLinks: string[] = [];
    churn.forEach((l, i) => {
      withLinks.push(l);
      const ts = l.split(" ")[1];
      if (i % 25 === 0 && i > 0 && /^\d+$/.test(ts ?? "")) withLinks.push(`L ${ts} ${socks[i % socks.length]} ${socks[(i + 1) % socks.length]} 640 641 1 haproxy`);
    });
    const stitch = (lines: readonly string[]) => {
      const traces: string[] = [];
      const st = new Stitcher({ onTrace: (t) => traces.push(JSON.stringify(v1.Trace.toObject(t, { longs: String }))) });
      st.ingest(source.node, throughAgent(lines).decoded);
      st.flush();
      return { traces, stats: st.stats() };
    };
    const plain = stitch(churn);
    const linked = stitch(withLinks);
    expect(withLinks.length - churn.length).toBeGreaterThan(40);
    expect(plain.traces.length).toBeGreaterThan(100);
    expect(linked.traces).toEqual(plain.traces);
    expect(linked.stats.traces).toBe(plain.stats.traces);
    expect(linked.stats.untracked).toBe(plain.stats.untracked);
  });

  // The stitcher reads links (pooled upstreams, issue 10): none is malformed.
  test("the stitcher does not count links as malformed", () => {
    const st = new Stitcher({ onTrace: () => undefined });
    st.ingest(source.node, throughAgent(POOLED).decoded);
    st.flush();
    expect(st.stats().malformed).toBe(0);
  });
});
