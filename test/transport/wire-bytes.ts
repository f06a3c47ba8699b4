// How many bytes one event takes in the JetStream events stream: what sizes
// the stream's max_bytes from a time horizon (src/transport/events-stream-size.ts,
// whose constants test/transport/events-stream-size.test.ts measures with this).
// Realistic events are encoded with the transport's own encoder and published
// the way the agent publishes them (subject tcptrail.v1.events.<node>, a
// Nats-Msg-Id header per batch) to a real nats-server; the stream's own
// `state.bytes` is read back, so the JetStream record overhead, subject and
// headers are counted exactly as the server counts them against max_bytes.
//
// Two batch sizes per kind of traffic separate what every message costs
// (record, subject, headers, batch header) from what every event costs:
// bytes per message = perMessage + perEvent × events in it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Agent } from "../../src/agent/mod.js";
import type { ConnEventInit } from "../../src/model/mod.js";
import {
  EVENTS_STREAM,
  batchMsgId,
  connectNats,
  encodeBatch,
  ensureStreams,
  eventsSubject,
  jetstream,
  jetstreamManager,
  startEmbeddedNats,
  type BatchOrigin,
} from "../../src/transport/mod.js";

/** One kind of traffic to measure. */
export interface WireSample {
  name: string;
  /** Ordered events with seq set, as the agent releases them. */
  events: ConnEventInit[];
}

export interface WireBytesOptions {
  /** The two batch sizes (events per message) whose difference isolates per-event bytes. Default [50, 1000]. */
  batchSizes?: readonly [number, number];
  /** Node name on the subject and in the batch header; a realistic length matters. Default "ip-10-0-12-34.eu-west-1.compute.internal". */
  node?: string;
}

export interface WireBytesResult {
  name: string;
  /** Stream bytes each event adds (its share of the payload). */
  perEventBytes: number;
  /** Stream bytes every message costs whatever it holds: record, subject, Nats-Msg-Id header, batch header. */
  perMessageBytes: number;
  /** Protobuf payload per event at the larger batch size (no stream overhead). */
  payloadPerEventBytes: number;
  /**
   * Compressed size / raw size of the stream's message block files, by `lz4 -1`
   * (an LZ77 coder without entropy coding, like S2): an estimate of what
   * nats-server 2.10's `compression: s2` would keep. undefined without lz4.
   */
  lz4Ratio: number | undefined;
}

const DEFAULT_NODE = "ip-10-0-12-34.eu-west-1.compute.internal";

/**
 * Churn-like events: recorded bpftrace output (a loopback connect/accept/close
 * loop, test/probes/fixtures/loopback-basics.txt) parsed, ordered and
 * attributed by the agent, repeated with shifted kernel times until `count`.
 */
export async function churnEvents(recordedLines: readonly string[], count: number): Promise<ConnEventInit[]> {
  const stamped = recordedLines.filter((l) => /^[A-Za-z] \d+ /.test(l) && !l.startsWith("B "));
  const tsOf = (l: string) => BigInt(l.split(" ", 2)[1]!);
  const span = tsOf(stamped[stamped.length - 1]!) - tsOf(stamped[0]!) + 1000n;
  const out: ConnEventInit[] = [];
  const agent = new Agent({ node: "wire", sink: (evs) => void out.push(...evs), reorderWindowMs: 1 });
  for (let rep = 0; out.length < count; rep++) {
    for (const l of stamped) {
      const sp = l.indexOf(" ", 2);
      agent.feed(`${l.slice(0, 2)}${tsOf(l) + BigInt(rep) * span}${l.slice(sp)}`);
    }
    agent.tick();
    if (rep > 10_000) throw new Error("the recording yields no events");
  }
  await agent.stop();
  return out.slice(0, count).map((e, i) => ({ ...e, seq: i + 1 }));
}

/**
 * `events` (one node's, in order) laid end to end until `count`, each copy
 * later in kernel and wall time, seqs renumbered from 1: a short recording
 * (the mesh lab's scenarios) as a long stream.
 */
export function repeated(events: readonly ConnEventInit[], count: number): ConnEventInit[] {
  if (events.length === 0) throw new Error("nothing to repeat");
  const first = events[0]!.tsNs;
  const spanNs = events[events.length - 1]!.tsNs - first + 1000n;
  const out: ConnEventInit[] = [];
  for (let rep = 0; out.length < count; rep++) {
    for (const e of events) {
      if (out.length === count) break;
      const shiftNs = BigInt(rep) * spanNs;
      out.push({ ...e, seq: out.length + 1, tsNs: e.tsNs + shiftNs, timeUs: (e.timeUs ?? 0) + Number(shiftNs / 1000n) });
    }
  }
  return out;
}

/** Bytes of the stream after publishing `events` in batches of `size`, the way the agent publishes them. */
async function publishAndMeasure(
  url: string,
  node: string,
  events: readonly ConnEventInit[],
  size: number,
): Promise<{ messages: number; bytes: number; payload: number }> {
  const nc = await connectNats(url, { name: "tcptrail-wire-bench" });
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, { events: { maxBytes: -1 } });
    await jsm.streams.purge(EVENTS_STREAM);
    const js = jetstream(nc);
    const origin: BatchOrigin = { node, bootId: "3f6c1e2a-9b7d-4c58-a1e0-5d2f8b9c7e41", agentStartUs: Date.now() * 1000 };
    let payload = 0;
    let messages = 0;
    for (let i = 0; i + size <= events.length; i += size) {
      const batch = events.slice(i, i + size);
      const bytes = encodeBatch(origin, batch);
      payload += bytes.length;
      messages++;
      await js.publish(eventsSubject(node), bytes, { msgID: batchMsgId(origin, batch[0]!.seq ?? 0) });
    }
    const info = await jsm.streams.info(EVENTS_STREAM);
    if (info.state.messages !== messages) throw new Error(`stream holds ${info.state.messages} of ${messages} messages`);
    return { messages, bytes: info.state.bytes, payload };
  } finally {
    await nc.close();
  }
}

/** Raw and lz4 -1 compressed bytes of every message block file under `dir`, or undefined without lz4. */
function lz4RatioOfBlocks(dir: string): number | undefined {
  const blocks: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(".blk")) blocks.push(p);
    }
  };
  walk(dir);
  let raw = 0;
  let packed = 0;
  for (const b of blocks) {
    const r = spawnSync("lz4", ["-1", "-c", b], { maxBuffer: 1 << 30 });
    if (r.error || r.status !== 0) return undefined;
    raw += readFileSync(b).length;
    packed += r.stdout.length;
  }
  return raw > 0 ? packed / raw : undefined;
}

/** Measure each sample on a nats-server of its own (JetStream, file storage) in a temp dir. */
export async function measureWireBytes(samples: readonly WireSample[], o: WireBytesOptions = {}): Promise<WireBytesResult[]> {
  const [small, large] = o.batchSizes ?? [50, 1000];
  const node = o.node ?? DEFAULT_NODE;
  const out: WireBytesResult[] = [];
  for (const s of samples) {
    const dir = mkdtempSync(join(tmpdir(), "tcptrail-wire-"));
    const server = await startEmbeddedNats({ stateDir: dir });
    try {
      const a = await publishAndMeasure(server.url, node, s.events, small);
      const b = await publishAndMeasure(server.url, node, s.events, large);
      // The large run is what the block files hold now (the small one was purged).
      const lz4Ratio = lz4RatioOfBlocks(join(dir, "jetstream"));
      const perMsgA = a.bytes / a.messages;
      const perMsgB = b.bytes / b.messages;
      const perEventBytes = (perMsgB - perMsgA) / (large - small);
      out.push({
        name: s.name,
        perEventBytes,
        perMessageBytes: perMsgA - perEventBytes * small,
        payloadPerEventBytes: b.payload / (b.messages * large),
        lz4Ratio,
      });
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return out;
}
