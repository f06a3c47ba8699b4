// Raw events as the store keeps them: one event_batches row per received
// batch, its body the transport's EventBatch encoding (deflated), its filter a Bloom
// filter over what timelines look for. This file is the row format both
// ways: the bound on a row's time span that every time-window query relies
// on, the decoded shape the timeline and replay work with, and the probes
// (filter key, body bytes) that let a reader skip a row without decoding it.
import { deflateRawSync, inflateRawSync } from "node:zlib";
import { decodeBatch } from "../../transport/batch-codec.js";
import type { ConnEvent, ConnEventInit } from "../../model/mod.js";
import type { StoredEvent } from "../store.js";

/**
 * The widest span, in wall µs and in kernel ns, of one row's events. A row
 * overlaps [from, to] only if its last_us lies in [from, to + MAX_ROW_SPAN_US],
 * so window queries are one index range instead of a scan of everything newer.
 * Agents cut batches after 50 ms, so real batches are far narrower; a batch
 * that is not (a test's, an agent's backlog) is written as several rows.
 */
export const MAX_ROW_SPAN_US = 5_000_000;
export const MAX_ROW_SPAN_NS = BigInt(MAX_ROW_SPAN_US) * 1000n;

/**
 * What a row costs beyond its body and filter, for size accounting: its
 * integer columns and record header, its entries in the four indexes, and
 * the unused tail of its last overflow page. Measured with 1M churn events:
 * the file's live pages exceed bodies + filters by ~300 B a row in batches
 * of 1000 and ~440 B in batches of 200; rounded up.
 */
export const ROW_OVERHEAD_BYTES = 512;

/** One decoded event with where it came from: its node, and its stream (seq is unique within it). */
export interface EventRow {
  node: string;
  streamId: number;
  event: ConnEvent;
}

/** The event's identity in the store: the same event is reached from several sockets and tuples. */
export const eventKey = (r: EventRow): string => `${r.streamId}:${r.event.seq}`;

export const toStoredEvent = (r: EventRow): StoredEvent => ({ node: r.node, event: r.event });

// A row's body is the transport's EventBatch encoding compressed with raw
// deflate at level 1. Measured on 200k churn events in batches of 1000: 114
// B/event plain, 16 B/event deflated (level 6: 12.6 B but 6x the CPU; brotli
// quality 1: 18.5 B), 0.4 µs/event to compress and 0.3 µs/event to inflate,
// against ~2 µs to encode and ~1 µs to decode. So the default 1 GiB ring
// holds ~7x the minutes of raw events for under a tenth more write CPU.
const BODY_DEFLATE_LEVEL = 1;

/** The stored body of a batch's encoding. */
export function packBody(encoded: Uint8Array): Buffer {
  return deflateRawSync(encoded, { level: BODY_DEFLATE_LEVEL });
}

/** The batch encoding back from a stored body; the needles (below) are looked for in it. */
export function unpackBody(body: Uint8Array): Buffer {
  return inflateRawSync(body);
}

/**
 * A batch encoding's events with their exact kernel times. The body was
 * written by this store, so a decode failure means a damaged file: the
 * caller skips the row (one bad page must not take every timeline down with it).
 */
export function decodeRowEvents(encoded: Uint8Array): ConnEvent[] {
  return decodeBatch(encoded).events;
}

/** Wall-clock order, then (on one node) the exact kernel order, then the stream position. */
export function compareEventRows(a: EventRow, b: EventRow): number {
  const ea = a.event;
  const eb = b.event;
  if (ea.timeUs !== eb.timeUs) return ea.timeUs - eb.timeUs;
  if (a.node !== b.node) return a.node < b.node ? -1 : 1;
  if (ea.tsNs !== eb.tsNs) return ea.tsNs < eb.tsNs ? -1 : 1;
  return a.streamId - b.streamId || ea.seq - eb.seq;
}

/**
 * What a timeline looks for in the ring, asked in two steps: the row's Bloom
 * filter (every key in `keys`; a ~0.5 KB read instead of the ~100 KB body)
 * and then the body's bytes (every needle in `needles`, before decoding).
 * Either can say yes by accident (a row decoded in vain), neither ever says
 * no to a row that matches.
 */
export interface RowProbe {
  keys: string[];
  needles: Buffer[];
}

// Filter keys, one namespace per kind of value (the filter is the row's own).
const sockKey = (sock: string): string => `s:${sock}`;
const addrKey = (ip: string, port: number): string => `a:${ip}:${port}`;
const ipKey = (ip: string): string => `i:${ip}`;

/** Events of this struct sock address (on any node). */
export const sockProbe = (sock: string): RowProbe => ({ keys: [sockKey(sock)], needles: [sockNeedle(sock)] });

/** Events with this endpoint, or this address when no port (or 0) is given, at either end. */
export const endpointProbe = (ip: string, port?: number): RowProbe => ({
  keys: [port !== undefined && port > 0 ? addrKey(ip, port) : ipKey(ip)],
  needles: [endpointNeedle(ip, port)],
});

/**
 * Events of a 4-tuple: a row holding one has both endpoints. Asking for both
 * matters: a server's endpoint is in nearly every row of a busy ring, the
 * client's ephemeral one in a few.
 */
export const tupleProbe = (aIp: string, aPort: number, bIp: string, bPort: number): RowProbe => ({
  keys: [addrKey(aIp, aPort), addrKey(bIp, bPort)],
  needles: [endpointNeedle(aIp, aPort), endpointNeedle(bIp, bPort)],
});

/**
 * The filter keys of a row's events: every socket address, and every local
 * and remote endpoint and address. Consecutive events mostly repeat them, so
 * a key is only built when a value differs from the previous event's.
 */
export function rowFilterKeys(events: readonly ConnEventInit[]): Set<string> {
  const keys = new Set<string>();
  let sock: string | null = null;
  let local = "";
  let remote = "";
  for (const e of events) {
    if (e.sock && e.sock !== sock) {
      sock = e.sock;
      keys.add(sockKey(sock));
    }
    for (const [ep, isLocal] of [[e.local, true], [e.remote, false]] as const) {
      const ip = ep?.ip;
      if (!ip) continue;
      const port = ep.port ?? 0;
      const id = `${ip}:${port}`;
      if (id === (isLocal ? local : remote)) continue;
      if (isLocal) local = id;
      else remote = id;
      keys.add(ipKey(ip));
      if (port > 0) keys.add(addrKey(ip, port));
    }
  }
  return keys;
}

// Needles: the exact bytes protobufjs writes for a field, so that a row whose
// body lacks them cannot hold a matching event and is never decoded. The
// encoder writes fields in number order and strings as tag, length, UTF-8
// bytes, so an event's socket and endpoints appear in the body verbatim.
// A needle can match by accident (then the row is decoded in vain), never miss.

/** ConnEvent.sock (field 5, length-delimited) equal to `sock`. */
export function sockNeedle(sock: string): Buffer {
  const bytes = Buffer.from(sock, "utf8");
  return Buffer.concat([Buffer.from([(5 << 3) | 2]), varint(bytes.length), bytes]);
}

/**
 * An Endpoint (local, remote or target) with this address and, when given
 * (> 0), this port: Endpoint.ip is field 1, Endpoint.port field 2 (varint),
 * written in that order with nothing between them.
 */
export function endpointNeedle(ip: string, port?: number): Buffer {
  const bytes = Buffer.from(ip, "utf8");
  const parts = [Buffer.from([(1 << 3) | 2]), varint(bytes.length), bytes];
  if (port !== undefined && port > 0) parts.push(Buffer.from([(2 << 3) | 0]), varint(port));
  return Buffer.concat(parts);
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}
