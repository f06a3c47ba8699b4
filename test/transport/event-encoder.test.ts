// The hand-written EventBatch encoder against event.proto and the generated
// encoder: the same field numbers, and the same bytes for every event the
// agent makes and for the values at the edges of each wire type.
import { fileURLToPath } from "node:url";
import protobuf from "protobufjs";
import { describe, expect, test } from "vitest";
import { synthesizeChurnRecording } from "../../bench/synthetic-churn.js";
import { EventPipeline } from "../../src/agent/mod.js";
import { EventKind, baseSecondsOf, emptyWireEvent, toWireEvent, v1, type ConnEventInit } from "../../src/model/mod.js";
import { CONN_EVENT_FIELDS, ENDPOINT_FIELDS, EVENT_BATCH_FIELDS, PROCESS_FIELDS } from "../../src/transport/event-encoder.js";
import { decodeBatch, encodeBatch, type BatchOrigin } from "../../src/transport/mod.js";
import { WireWriter } from "../../src/transport/wire-writer.js";

const PROTO = fileURLToPath(new URL("../../proto/tcptrail/v1/event.proto", import.meta.url));
const origin: BatchOrigin = { node: "node-ü", bootId: "boot", agentStartUs: 1_764_000_000_000_000 };

/** What encodeBatch wrote before: the generated encoders, a wire object per event. */
function generatedBatch(o: BatchOrigin, events: readonly ConnEventInit[]): Uint8Array {
  let earliest = events[0]?.tsNs ?? 0n;
  for (const e of events) if (e.tsNs < earliest) earliest = e.tsNs;
  const baseS = baseSecondsOf(earliest);
  const baseNs = BigInt(baseS) * 1_000_000_000n;
  const w = protobuf.Writer.create();
  v1.EventBatch.encode({ node: o.node, bootId: o.bootId, agentStartUs: o.agentStartUs, firstSeq: events[0]?.seq ?? 0, baseS }, w);
  const wire = emptyWireEvent();
  for (const e of events) v1.EventBatch.encode({ events: [toWireEvent(e, baseNs, wire)] }, w);
  return w.finish();
}

describe("field numbers", () => {
  const root = protobuf.loadSync(PROTO);
  const numbers = (name: string) => Object.fromEntries(Object.values(root.lookupType(name).fields).map((f) => [f.name, f.id]));

  test("are event.proto's, every field of each message", () => {
    expect(CONN_EVENT_FIELDS).toEqual(numbers("tcptrail.v1.ConnEvent"));
    expect(ENDPOINT_FIELDS).toEqual(numbers("tcptrail.v1.Endpoint"));
    expect(PROCESS_FIELDS).toEqual(numbers("tcptrail.v1.Process"));
    expect(EVENT_BATCH_FIELDS).toEqual(numbers("tcptrail.v1.EventBatch"));
  });
});

describe("bytes", () => {
  test("every event of a churn through the agent: the generated encoder's bytes, in batches of 1000", () => {
    const out: ConnEventInit[] = [];
    const p = new EventPipeline({ settings: { node: "n" }, sink: (evs) => out.push(...evs), pods: { resolve: (ns) => (ns % 2 ? "pod-a" : "") } });
    for (const l of synthesizeChurnRecording({ pairs: 3000, rstShare: 0.5 })) p.feedLine(l);
    p.stopSync();
    expect(out.length).toBeGreaterThan(30_000);
    for (let i = 0; i < out.length; i += 1000) {
      const batch = out.slice(i, i + 1000);
      expect(Buffer.from(encodeBatch(origin, batch)).equals(Buffer.from(generatedBatch(origin, batch)))).toBe(true);
    }
  });

  const TWO_53 = 1n << 53n;
  const edges: [string, ConnEventInit[]][] = [
    ["a young machine, all-zero optionals", [{ seq: 1, kind: EventKind.EVENT_KIND_STATE_CHANGE, tsNs: 1_000_000_123n }]],
    ["past 2^53 ns of uptime", [{ seq: 7, kind: 1, tsNs: TWO_53 + 12_345n }, { seq: 8, kind: 1, tsNs: TWO_53 - 3n }]],
    ["around 9.1e18 ns", [{ seq: 2 ** 40, kind: 1, tsNs: 9_100_000_000_999_999_998n, timeUs: 2 ** 52 + 1 }]],
    [
      "a GAP starting before its base second, 64-bit counters",
      [{ seq: 3, kind: EventKind.EVENT_KIND_GAP, tsNs: TWO_53 + 500n, lost: 2 ** 45 + 3, gapReason: "publish queue full", gapStartNs: TWO_53 - 5_000_000_001n }],
    ],
    ["a GAP far before a young base", [{ seq: 3, kind: EventKind.EVENT_KIND_GAP, tsNs: 9_000_000_000n, lost: 1, gapReason: "x", gapStartNs: 1n }]],
    [
      "a restart GAP's estimate (optional: 0 is written, absent is not)",
      [
        { seq: 3, kind: EventKind.EVENT_KIND_GAP, tsNs: 9_000_000_000n, gapReason: "bpftrace restarted", gapStartNs: 5_000_000_000n, estimatedLost: 1234 },
        { seq: 4, kind: EventKind.EVENT_KIND_GAP, tsNs: 9_000_000_001n, gapReason: "bpftrace restarted", gapStartNs: 8_000_000_000n, estimatedLost: 0 },
      ],
    ],
    [
      "negative int32 and sint32, every sub-message, empty ones too",
      [
        {
          seq: 4, kind: EventKind.EVENT_KIND_SYSCALL_CONNECT, tsNs: 5_000_000_000n, ret: -111, fd: -1, family: 6, netns: 4026531833, uid: 1337,
          local: { ip: "::1", port: 65535 }, remote: {}, target: { ip: "", port: 0 }, process: { pid: 4_000_000, tid: 1, comm: "x" }, owner: {},
          oldState: 7, newState: 2, resetReason: 25, role: 2, leg: 5, shutdownHow: 2, sock: "ffff888108981bc0", pod: "tt-a",
        },
      ],
    ],
    [
      "UTF-8 comms: two-, three- and four-byte characters",
      [{ seq: 5, kind: 7, tsNs: 5_000_000_001n, process: { pid: 1, tid: 2, comm: "é€😀z" }, owner: { pid: 1, tid: 2, comm: "ünïcødé" } }],
    ],
    [
      "values longer than one length byte (and than two)",
      [
        { seq: 6, kind: EventKind.EVENT_KIND_GAP, tsNs: 6_000_000_000n, gapReason: "r".repeat(200) },
        { seq: 7, kind: EventKind.EVENT_KIND_GAP, tsNs: 6_000_000_001n, gapReason: "€".repeat(6000), process: { comm: "c".repeat(20_000) } },
      ],
    ],
    [
      "socket links: one source, several (a u32's edge), none since the last send",
      [
        { seq: 8, kind: EventKind.EVENT_KIND_SOCKET_LINK, tsNs: 7_000_000_000n, sock: "ffff888149585c80", linkedSock: "ffff8881495865c0", linkSources: 1, process: { pid: 21717, tid: 21718, comm: "envoy" }, uid: 1337, role: 2, leg: 4 },
        { seq: 9, kind: EventKind.EVENT_KIND_SOCKET_LINK, tsNs: 7_000_000_001n, sock: "ffff1", linkedSock: "ffff2", linkSources: 2 ** 32 - 1 },
        { seq: 10, kind: EventKind.EVENT_KIND_SOCKET_LINK, tsNs: 7_000_000_002n, sock: "ffff1", linkedSock: "ffff3", linkSources: 0 },
      ],
    ],
  ];

  test.each(edges)("%s", (_name, events) => {
    const got = encodeBatch(origin, events);
    expect(Buffer.from(got).equals(Buffer.from(generatedBatch(origin, events)))).toBe(true);
    // And what the consumer reads back is what was sent.
    const back = decodeBatch(got).events;
    expect(back.map((e) => e.tsNs)).toEqual(events.map((e) => e.tsNs));
    expect(back.map((e) => (e.estimatedLost == null ? null : Number(e.estimatedLost)))).toEqual(events.map((e) => e.estimatedLost ?? null));
  });

  test("socket links through the agent (parsed, ordered, attributed): the generated encoder's bytes, read back whole", () => {
    const out: ConnEventInit[] = [];
    const p = new EventPipeline({ settings: { node: "n" }, sink: (evs) => out.push(...evs), pods: { resolve: () => "pod-a" } });
    for (const l of [
      "C 1000 ffff10 300 301 0 5 4 10.0.0.2 8080 1 6 900 950 4 10.0.0.1 40000 10.0.0.2 8080 4026531833 1337 envoy",
      "A 1100 ffff20 300 302 6 1 10 1050 1060 4 127.0.0.1 15001 127.0.0.1 50000 4026531833 1337 envoy",
      "L 1200 ffff10 ffff20 300 302 1 envoy",
      "L 1300 ffff20 ffff10 300 302 2 envoy",
      "L 1400 ffff99 ffff10 300 303 0 envoy",
    ]) p.feedLine(l);
    p.stopSync();
    const links = out.filter((e) => e.kind === EventKind.EVENT_KIND_SOCKET_LINK);
    expect(links).toHaveLength(3);
    const got = encodeBatch(origin, out);
    expect(Buffer.from(got).equals(Buffer.from(generatedBatch(origin, out)))).toBe(true);
    const back = decodeBatch(got).events.filter((e) => e.kind === EventKind.EVENT_KIND_SOCKET_LINK);
    expect(back.map((e) => [e.sock, e.linkedSock, e.linkSources, e.process?.tid])).toEqual([
      ["ffff10", "ffff20", 1, 302],
      ["ffff20", "ffff10", 2, 302],
      ["ffff99", "ffff10", 0, 303],
    ]);
  });

  test("a lone surrogate is written as protobufjs writes it", () => {
    const events: ConnEventInit[] = [{ seq: 5, kind: 7, tsNs: 5_000_000_001n, process: { pid: 1, tid: 2, comm: "a\ud800z" } }];
    expect(Buffer.from(encodeBatch(origin, events)).equals(Buffer.from(generatedBatch(origin, events)))).toBe(true);
  });

  test("the bytes own their buffer (transferable without a copy), and the writer grows from any size", () => {
    const events = edges[5]![1];
    const got = encodeBatch(origin, events);
    expect(got.byteOffset).toBe(0);
    expect(got.byteLength).toBe(got.buffer.byteLength);
    const w = new WireWriter(1);
    w.string("€".repeat(100));
    w.uint64(2 ** 53 - 1);
    w.sint64(-(2 ** 53 - 1));
    const ref = protobuf.Writer.create().string("€".repeat(100)).uint64(2 ** 53 - 1).sint64(-(2 ** 53 - 1)).finish();
    expect(Buffer.from(w.finish()).equals(Buffer.from(ref))).toBe(true);
  });
});
