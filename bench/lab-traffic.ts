// Recorded lab traffic for the store bench (issue 9: bytes per connection
// "measured on recorded lab traffic"): the event streams the lab recorded
// from a real kernel, real HAProxy sidecars and istio-iptables
// (test/trace/fixtures/lab/<scenario>.json, one connection each), laid out as
// many connections and stitched by the real Stitcher, so the template holds
// the traces and raw events the consumer would store for that traffic.
//
// Connection i of the template replays one recording's connection: the
// events of the sockets its stitched trace names (hop ends, reset origin and
// receiver) and the socketless ones. The lab's own setup events around them
// are left out (listeners opened and closed when the lab restarts a sidecar
// between scenarios): a sidecar reload per connection is not traffic, and
// replayed among concurrent connections it pulled the listeners out from
// under them (their ok connections lost their proxy links).
//
// What the replay changes, and why: its sockets get struct sock addresses of
// their own (the recorded head, a fresh low 32 bits), its ephemeral ports (the local ports of the sockets
// that connected, and the same ip:port where a peer names it as remote) get
// ports of their own from the kernel's default ephemeral range, and its
// kernel and wall times move so that connection i starts i / rate seconds
// after connection 0 while every event keeps its recorded offset within the
// connection. That is what makes thousands of connections of one recording
// distinct, concurrent connections the stitcher can tell apart, and blocks
// compress like many connections rather than like copies of one. Everything
// else is kept as recorded: the node, pods, netns, addresses, service and
// listener ports, roles, sidecar legs, uids, pids, comms, fds, syscall return
// values, reset reasons, the events and their order. So the stitched traces
// keep the recordings' shapes (hop counts, roles, outcomes, reset reasons,
// who closed first), which buildLabTemplate checks connection by connection
// against the recordings stitched as recorded.
//
// trace-clone.ts then copies the template to millions of connections,
// varying the same things again (sock addresses, client ports, times, ids).
// Its copies do not overlap in time, so it squeezes a template's span (its
// connections at the rate plus the longest recording, ~1.8 s) into T / rate:
// at the defaults (4,096 connections at 1,000/s) every duration is scaled by
// ~0.7, the recorded order of events kept.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseSocketId, v1, type ConnEvent, type Trace } from "../src/model/mod.js";
import { Stitcher } from "../src/trace/mod.js";
import { loadFixture, type FixtureRecord } from "./recorded-events.js";
import { DEFAULT_CLONE_RATE } from "./trace-clone.js";
import type { NodeEvents, TrafficTemplate } from "./traffic-template.js";

/**
 * How often each recorded scenario occurs in the lab traffic, by weight: a
 * healthy mesh where nearly every connection completes (ok; plain-to-mesh is
 * a client without a sidecar, also completed) and each failure the lab
 * records occurs now and then. A choice, not a measurement: the recordings
 * hold one connection per scenario. Failures carry more facts than
 * completions (a reset's origin, receiver and reason), so the mix is part of
 * what the bench's bytes per connection mean.
 */
export const DEFAULT_LAB_MIX: Readonly<Record<string, number>> = {
  ok: 90,
  "plain-to-mesh": 4,
  "idle-timeout": 2,
  "app-abort": 1,
  "sidecar-crash": 1,
  "no-listener": 1,
  reject: 1,
};

/** Where the lab recordings are, from bench/ (vitest, tsx) or dist/bench/ (npm run bench). */
export const DEFAULT_LAB_DIR =
  [new URL("../test/trace/fixtures/lab/", import.meta.url), new URL("../../test/trace/fixtures/lab/", import.meta.url)]
    .map((u) => u.pathname)
    .find((p) => existsSync(p)) ?? new URL("../test/trace/fixtures/lab/", import.meta.url).pathname;

/** The kernel's default net.ipv4.ip_local_port_range: where connecting sockets get their local ports. */
export const DEFAULT_EPHEMERAL_PORTS = { lo: 32768, hi: 60999 } as const;

/** Low 32 bits of the first template socket's address; each next socket is one 64-byte slab object further. */
const SOCK_LOW_BASE = 0x0500_0000;
const SOCK_ALIGN = 64;
const SOCK_LOW_DIGITS = 8;

export interface LabTemplateOptions {
  /** Connections in the template. Default: one per unit of the mix's weights (100 at the default mix). */
  connections?: number;
  /** Weight per recording name (its file, without .json, in `dir`). Default DEFAULT_LAB_MIX. */
  mix?: Readonly<Record<string, number>>;
  /** Default DEFAULT_LAB_DIR. */
  dir?: string;
  /** Connections per second the template's connections start at. Default DEFAULT_CLONE_RATE, the rate the bench stores at. */
  ratePerSec?: number;
}

export interface LabTemplate extends TrafficTemplate {
  kind: "lab";
  /** The recording each trace (same index) replays. */
  scenarios: string[];
  /** The weights it was built with. */
  mix: Readonly<Record<string, number>>;
}

/** One recording, as the lab wrote it. */
export interface Recording {
  name: string;
  records: FixtureRecord[];
  firstNs: bigint;
}

/** A recording's connection, stitched as recorded. */
export interface RecordedConnection {
  /** traceShape of its trace. */
  shape: string;
  /** "node/sock" → birth ns of every socket its trace names. */
  sockets: Map<string, bigint>;
}

const minNs = (records: readonly FixtureRecord[]): bigint =>
  records.reduce((m, r) => (r.event.tsNs !== 0n && (m === 0n || r.event.tsNs < m) ? r.event.tsNs : m), 0n);

/**
 * The recordings named in `names`, in the order they were recorded (by
 * kernel time): later scenarios can depend on earlier ones (reject's RST is
 * "untraced" because the ok scenario showed pod b's sockets being traced).
 */
export function loadRecordings(dir: string, names: readonly string[]): Recording[] {
  return names
    .map((name) => {
      const path = join(dir, `${name}.json`);
      if (!existsSync(path)) throw new Error(`lab traffic: no recording ${path} (the mix names "${name}")`);
      const records = loadFixture(path);
      if (records.length === 0) throw new Error(`lab traffic: recording ${path} has no events`);
      return { name, records, firstNs: minNs(records) };
    })
    .sort((a, b) => (a.firstNs < b.firstNs ? -1 : a.firstNs > b.firstNs ? 1 : 0));
}

/**
 * Which recording each of `connections` replays: smooth weighted round robin
 * (as nginx balances upstreams), so every stretch of the template has the
 * mix's proportions and the heaviest scenario comes first, rather than the
 * failures in one clump that a block would compress on its own.
 */
export function labSchedule(mix: Readonly<Record<string, number>>, connections: number): string[] {
  const entries = Object.entries(mix);
  for (const [name, w] of entries) if (!Number.isFinite(w) || w < 0) throw new Error(`lab traffic: the weight of "${name}" must be a number >= 0, got ${w}`);
  const used = entries.filter(([, w]) => w > 0);
  if (used.length === 0) throw new Error("lab traffic: the mix gives no recording a weight above 0");
  const total = used.reduce((s, [, w]) => s + w, 0);
  const current = used.map(() => 0);
  const out: string[] = [];
  for (let i = 0; i < connections; i++) {
    let best = 0;
    for (let j = 0; j < used.length; j++) {
      current[j]! += used[j]![1];
      if (current[j]! > current[best]!) best = j;
    }
    current[best]! -= total;
    out.push(used[best]![0]);
  }
  return out;
}

/** What a trace says about a connection, without what differs per connection (ids, ports, sockets, times). */
export function traceShape(t: Trace): string {
  const ep = (e: Trace["resetOrigin"]) => (e ? [e.pod, e.role, e.leg, e.ip, e.pid, e.comm] : null);
  return JSON.stringify({
    outcome: t.outcome,
    hops: t.hops.map((h) => ({
      client: ep(h.client),
      server: ep(h.server),
      serverPort: h.server?.port,
      openedBy: h.openedBy,
      firstFinBy: h.firstFinBy,
      resetBy: h.resetBy,
      resetReason: h.resetReason,
      outcome: h.outcome,
    })),
    resetOrigin: ep(t.resetOrigin),
    resetOriginHop: t.resetOriginHop,
    resetReceiver: ep(t.resetReceiver),
    firstCloseHop: t.firstCloseHop,
    firstCloseBy: t.firstCloseBy,
  });
}

/** The socket a trace is rooted at ("node/sock/birth"), as its id is derived from. */
const rootSocketId = (t: Trace): string => t.hops[0]?.client?.socketId || t.hops[0]?.server?.socketId || "";

/** "node/sock" → birth of every socket the trace names. */
function traceSockets(t: Trace): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const ep of [...t.hops.flatMap((h) => [h.client, h.server]), t.resetOrigin, t.resetReceiver]) {
    const id = ep?.socketId ? parseSocketId(ep.socketId) : null;
    if (id) out.set(`${id.node}/${id.sock}`, id.birthNs);
  }
  return out;
}

function stitchAll(nodes: readonly NodeEvents[]): Trace[] {
  const traces: Trace[] = [];
  const stitcher = new Stitcher({ onTrace: (t) => void traces.push(t) });
  for (const { node, events } of nodes) stitcher.ingest(node, events);
  stitcher.flush();
  return traces;
}

/** Each node's events of `records`, in kernel-time order (a stable sort keeps a recording's own order on ties). */
function byNode(records: readonly FixtureRecord[]): NodeEvents[] {
  const nodes = new Map<string, ConnEvent[]>();
  for (const r of records) {
    let list = nodes.get(r.node);
    if (!list) nodes.set(r.node, (list = []));
    list.push(r.event);
  }
  return [...nodes].map(([node, events]) => ({ node, events: events.sort((a, b) => (a.tsNs < b.tsNs ? -1 : a.tsNs > b.tsNs ? 1 : 0)) }));
}

/**
 * Each recording's connection, stitched as the lab recorded it (all
 * recordings in one stitcher, in recorded order).
 * @throws Error when a recording does not stitch into exactly one trace
 */
export function recordedConnections(recordings: readonly Recording[]): Map<string, RecordedConnection> {
  const owner = new Map<string, string>();
  for (const { name, records } of recordings) for (const r of records) owner.set(`${r.node}/${r.event.sock}/${r.event.tsNs}`, name);
  const out = new Map<string, RecordedConnection>();
  for (const t of stitchAll(byNode(recordings.flatMap((r) => r.records)))) {
    const name = owner.get(rootSocketId(t));
    if (name === undefined) throw new Error(`lab traffic: a recorded trace is rooted at ${rootSocketId(t)}, a socket no recording starts`);
    if (out.has(name)) throw new Error(`lab traffic: recording "${name}" stitches into more than one trace`);
    out.set(name, { shape: traceShape(t), sockets: traceSockets(t) });
  }
  for (const { name } of recordings) if (!out.has(name)) throw new Error(`lab traffic: recording "${name}" stitches into no trace`);
  return out;
}

/**
 * The events of a recording's connection: those of the sockets its trace
 * names, from each one's birth on, and those of no socket (a kernel's RST for
 * a SYN nothing listened for, named by its tuple alone).
 */
export function connectionRecords(r: Recording, c: RecordedConnection): FixtureRecord[] {
  return r.records.filter(({ node, event: e }) => {
    if (!e.sock) return true;
    const birth = c.sockets.get(`${node}/${e.sock}`);
    return birth !== undefined && e.tsNs >= birth;
  });
}

/** Hands out what must differ per connection: sock addresses and ephemeral ports. */
class Renamer {
  #sockSlot = 0;
  #portSlot = 0;
  readonly #portRange = DEFAULT_EPHEMERAL_PORTS.hi - DEFAULT_EPHEMERAL_PORTS.lo + 1;
  sock(recorded: string): string {
    const digits = Math.min(SOCK_LOW_DIGITS, recorded.length);
    const low = (SOCK_LOW_BASE + this.#sockSlot++ * SOCK_ALIGN) % 2 ** 32;
    return recorded.slice(0, recorded.length - digits) + low.toString(16).padStart(SOCK_LOW_DIGITS, "0");
  }
  port(): number {
    return DEFAULT_EPHEMERAL_PORTS.lo + (this.#portSlot++ % this.#portRange);
  }
}

const ipPort = (ip: string | null | undefined, port: number | null | undefined) => `${ip ?? ""}:${port ?? 0}`;

/** The local ip:port of every socket in `records` that connected (left CLOSE for SYN_SENT): its ephemeral endpoint. */
function ephemeralEndpoints(records: readonly FixtureRecord[]): Set<string> {
  const connecting = new Set<string>();
  for (const { node, event: e } of records) {
    if (e.kind === v1.EventKind.EVENT_KIND_STATE_CHANGE && e.newState === v1.TcpState.TCP_STATE_SYN_SENT) connecting.add(`${node}/${e.sock}`);
  }
  const out = new Set<string>();
  for (const { node, event: e } of records) if (connecting.has(`${node}/${e.sock}`) && e.local?.port) out.add(ipPort(e.local.ip, e.local.port));
  return out;
}

interface Replayed {
  records: FixtureRecord[];
  /** "node/sock" of the connection's sockets. */
  socks: string[];
}

/** A connection's events as connection i: own sockets and ephemeral ports, starting at `startNs`; see the file comment. */
function replayAs(connection: readonly FixtureRecord[], ephemeral: ReadonlySet<string>, startNs: bigint, names: Renamer): Replayed {
  const shiftNs = startNs - minNs(connection);
  const shiftUs = Number(shiftNs) / 1000;
  const socks = new Map<string, string>();
  const ports = new Map<string, number>();
  const port = (ip: string | null | undefined, p: number | null | undefined): number => {
    const key = ipPort(ip, p);
    if (!p || !ephemeral.has(key)) return p ?? 0;
    let q = ports.get(key);
    if (q === undefined) ports.set(key, (q = names.port()));
    return q;
  };
  const records = connection.map(({ node, event: e }) => {
    let sock = e.sock;
    if (sock) {
      const key = `${node}/${sock}`;
      sock = socks.get(key) ?? names.sock(sock);
      socks.set(key, sock);
    }
    const event = Object.assign(v1.ConnEvent.create(), e, {
      sock,
      local: e.local ? { ip: e.local.ip, port: port(e.local.ip, e.local.port) } : e.local,
      remote: e.remote ? { ip: e.remote.ip, port: port(e.remote.ip, e.remote.port) } : e.remote,
      tsNs: e.tsNs === 0n ? 0n : e.tsNs + shiftNs,
      gapStartNs: e.gapStartNs === 0n ? 0n : e.gapStartNs + shiftNs,
      timeUs: e.timeUs ? Math.round(e.timeUs + shiftUs) : e.timeUs,
    }) as unknown as ConnEvent;
    return { node, event };
  });
  return { records, socks: [...socks].map(([key, sock]) => `${key.slice(0, key.lastIndexOf("/"))}/${sock}`) };
}

/**
 * A template of lab traffic: `connections` connections replaying the
 * recordings in the mix's proportions, stitched by the real Stitcher.
 * @throws Error when the template's traces are not one per connection, each
 * shaped as its recording stitched alone would be (the replay changed what
 * the stitcher sees: a bench built on that would not measure the recordings)
 */
export function buildLabTemplate(o: LabTemplateOptions = {}): LabTemplate {
  const mix = o.mix ?? DEFAULT_LAB_MIX;
  const schedule = labSchedule(mix, o.connections ?? Math.max(1, Math.round(Object.values(mix).reduce((s, w) => s + w, 0))));
  const recordings = loadRecordings(o.dir ?? DEFAULT_LAB_DIR, [...new Set(schedule)]);
  const recorded = recordedConnections(recordings);
  const events = new Map(recordings.map((r) => [r.name, connectionRecords(r, recorded.get(r.name)!)]));
  const ephemeral = new Map(recordings.map((r) => [r.name, ephemeralEndpoints(events.get(r.name)!)]));
  const spacingNs = BigInt(Math.round(1e9 / (o.ratePerSec ?? DEFAULT_CLONE_RATE)));
  const baseNs = recordings[0]!.firstNs;
  const names = new Renamer();
  const connectionOf = new Map<string, number>();
  const records: FixtureRecord[] = [];
  schedule.forEach((name, i) => {
    const replayed = replayAs(events.get(name)!, ephemeral.get(name)!, baseNs + BigInt(i) * spacingNs, names);
    for (const s of replayed.socks) connectionOf.set(s, i);
    for (const r of replayed.records) records.push(r);
  });
  const nodes = byNode(records);
  nodes.forEach(({ events }) => events.forEach((e, i) => (e.seq = i + 1)));

  const traces = stitchAll(nodes);
  if (traces.length !== schedule.length) throw new Error(`lab template: ${schedule.length} connections stitched into ${traces.length} traces`);
  const scenarioOf = new Map<Trace, string>();
  for (const t of traces) {
    const id = parseSocketId(rootSocketId(t));
    const i = id ? connectionOf.get(`${id.node}/${id.sock}`) : undefined;
    if (i === undefined) throw new Error(`lab template: a trace is rooted at ${rootSocketId(t)}, no connection's socket`);
    const name = schedule[i]!;
    if (traceShape(t) !== recorded.get(name)!.shape) {
      throw new Error(`lab template: connection ${i} (${name}, sockets ${[...recorded.get(name)!.sockets.keys()].join(" ")}) stitched unlike its recording:\n  got      ${traceShape(t)}\n  recorded ${recorded.get(name)!.shape}`);
    }
    scenarioOf.set(t, name);
  }
  traces.sort((a, b) => a.startUs - b.startUs || (a.traceId < b.traceId ? -1 : 1));
  const eventCount = nodes.reduce((n, x) => n + x.events.length, 0);
  return {
    kind: "lab",
    connections: schedule.length,
    traces,
    nodes,
    eventsPerConnection: eventCount / schedule.length,
    scenarios: traces.map((t) => scenarioOf.get(t)!),
    mix,
  };
}
