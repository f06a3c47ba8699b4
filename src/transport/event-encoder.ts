// Writes EventBatch messages (proto/tcptrail/v1/event.proto) straight from the
// agent's events into a reused WireWriter: no wire object per event, no
// object per field, one copy of the bytes per batch. The field numbers below
// are event.proto's: a field added to ConnEvent is a compile error in
// CONN_EVENT_FIELDS until it is given its number here, and a test compares
// the numbers with the .proto and the bytes with the generated encoder's.
import { offsetFrom } from "../model/kernel-time.js";
import type { ConnEventInit, Endpoint, KernelNs, PodLabels, Process, WireEventInit } from "../model/mod.js";
import type { WireWriter } from "./wire-writer.js";

const VARINT = 0;
const DELIMITED = 2;

/** ConnEvent's field numbers, by the generated property name. */
export const CONN_EVENT_FIELDS: Readonly<Record<Exclude<keyof WireEventInit, "$unknowns">, number>> = {
  seq: 1,
  kind: 2,
  timeUs: 4,
  sock: 5,
  netns: 6,
  pod: 7,
  family: 8,
  local: 9,
  remote: 10,
  oldState: 11,
  newState: 12,
  resetReason: 13,
  uid: 14,
  process: 15,
  owner: 16,
  role: 17,
  leg: 18,
  ret: 19,
  target: 20,
  shutdownHow: 21,
  fd: 22,
  lost: 23,
  gapReason: 24,
  tsOffsetNs: 26,
  gapStartOffsetNs: 27,
  linkedSock: 28,
  linkSources: 29,
  estimatedLost: 30,
};
export const ENDPOINT_FIELDS = { ip: 1, port: 2 } as const;
export const PROCESS_FIELDS = { pid: 1, tid: 2, comm: 3 } as const;
export const EVENT_BATCH_FIELDS = { node: 1, bootId: 2, agentStartUs: 3, firstSeq: 4, events: 5, baseS: 6, pods: 7 } as const;
export const POD_ENTRY_FIELDS = { netns: 1, pod: 2, labels: 3 } as const;
/** A protobuf map entry's key and value. */
const MAP_ENTRY_FIELDS = { key: 1, value: 2 } as const;

const F = CONN_EVENT_FIELDS;
const MAX_SAFE_NS = BigInt(Number.MAX_SAFE_INTEGER);

/** The batch header fields, in the order the generated encoder writes them. */
export function writeBatchHeader(w: WireWriter, h: { node: string; bootId: string; agentStartUs: number; firstSeq: number; baseS: number }): void {
  if (h.node !== "") stringField(w, EVENT_BATCH_FIELDS.node, h.node);
  if (h.bootId !== "") stringField(w, EVENT_BATCH_FIELDS.bootId, h.bootId);
  if (h.agentStartUs !== 0) uint64Field(w, EVENT_BATCH_FIELDS.agentStartUs, h.agentStartUs);
  if (h.firstSeq !== 0) uint64Field(w, EVENT_BATCH_FIELDS.firstSeq, h.firstSeq);
  if (h.baseS !== 0) uint64Field(w, EVENT_BATCH_FIELDS.baseS, h.baseS);
}

/**
 * One event as an EventBatch `events` entry, its kernel times as offsets from
 * `baseNs` (`baseNum`: the same base as a number, or -1 when it is past 2^53).
 * Fields are written in field-number order and skipped when unset or zero,
 * as the generated encoder does.
 * @throws RangeError when a kernel time is more than 2^53 ns from the base
 */
export function writeEvent(w: WireWriter, ev: ConnEventInit, baseNs: KernelNs, baseNum: number): void {
  w.tag(EVENT_BATCH_FIELDS.events, DELIMITED);
  const start = w.fork();
  const seq = ev.seq;
  if (seq != null && seq !== 0) uint64Field(w, F.seq, seq);
  const kind = ev.kind;
  if (kind != null && kind !== 0) int32Field(w, F.kind, kind);
  const timeUs = ev.timeUs;
  if (timeUs != null && timeUs !== 0) uint64Field(w, F.timeUs, timeUs);
  const sock = ev.sock;
  if (sock != null && sock !== "") stringField(w, F.sock, sock);
  const netns = ev.netns;
  if (netns != null && netns !== 0) uint64Field(w, F.netns, netns);
  const pod = ev.pod;
  if (pod != null && pod !== "") stringField(w, F.pod, pod);
  const family = ev.family;
  if (family != null && family !== 0) uint32Field(w, F.family, family);
  if (ev.local != null) endpointField(w, F.local, ev.local);
  if (ev.remote != null) endpointField(w, F.remote, ev.remote);
  const oldState = ev.oldState;
  if (oldState != null && oldState !== 0) int32Field(w, F.oldState, oldState);
  const newState = ev.newState;
  if (newState != null && newState !== 0) int32Field(w, F.newState, newState);
  const reason = ev.resetReason;
  if (reason != null && reason !== 0) int32Field(w, F.resetReason, reason);
  const uid = ev.uid;
  if (uid != null && uid !== 0) uint32Field(w, F.uid, uid);
  if (ev.process != null) processField(w, F.process, ev.process);
  if (ev.owner != null) processField(w, F.owner, ev.owner);
  const role = ev.role;
  if (role != null && role !== 0) int32Field(w, F.role, role);
  const leg = ev.leg;
  if (leg != null && leg !== 0) int32Field(w, F.leg, leg);
  const ret = ev.ret;
  if (ret != null && ret !== 0) {
    w.tag(F.ret, VARINT);
    w.sint32(ret);
  }
  if (ev.target != null) endpointField(w, F.target, ev.target);
  const how = ev.shutdownHow;
  if (how != null && how !== 0) uint32Field(w, F.shutdownHow, how);
  const fd = ev.fd;
  if (fd != null && fd !== 0) int32Field(w, F.fd, fd);
  const lost = ev.lost;
  if (lost != null && lost !== 0) uint64Field(w, F.lost, lost);
  const reason2 = ev.gapReason;
  if (reason2 != null && reason2 !== "") stringField(w, F.gapReason, reason2);
  const off = offsetOf(ev.tsNs, baseNs, baseNum);
  if (off !== 0) uint64Field(w, F.tsOffsetNs, off);
  // Absent unless set: 0n is "unknown", and non-GAP events never carry it.
  const gap = ev.gapStartNs;
  if (gap) {
    w.tag(F.gapStartOffsetNs, VARINT);
    w.sint64(offsetFrom(baseNs, gap));
  }
  const linked = ev.linkedSock;
  if (linked != null && linked !== "") stringField(w, F.linkedSock, linked);
  const sources = ev.linkSources;
  if (sources != null && sources !== 0) uint32Field(w, F.linkSources, sources);
  // Optional in the proto: an estimate of 0 is a statement, absent is "no estimate".
  const estimate = ev.estimatedLost;
  if (estimate != null) uint64Field(w, F.estimatedLost, estimate);
  w.ldelim(start);
}

/**
 * One entry of the batch's pod directory (EventBatch.pods), written after
 * the events as the generated encoder writes field 7 after 5 and 6; labels in
 * their own key order, as the generated encoder walks a map.
 */
export function writePodEntry(w: WireWriter, netns: number, pod: string, labels: PodLabels): void {
  w.tag(EVENT_BATCH_FIELDS.pods, DELIMITED);
  const start = w.fork();
  if (netns !== 0) uint64Field(w, POD_ENTRY_FIELDS.netns, netns);
  if (pod !== "") stringField(w, POD_ENTRY_FIELDS.pod, pod);
  for (const key of Object.keys(labels)) {
    w.tag(POD_ENTRY_FIELDS.labels, DELIMITED);
    const entry = w.fork();
    stringField(w, MAP_ENTRY_FIELDS.key, key);
    stringField(w, MAP_ENTRY_FIELDS.value, labels[key]!);
    w.ldelim(entry);
  }
  w.ldelim(start);
}

/**
 * ns - base as a number. Below 2^53 (104 days of uptime) both are exact
 * doubles and the difference is taken without a BigInt; past it, exactly, in BigInt.
 */
function offsetOf(ns: KernelNs, baseNs: KernelNs, baseNum: number): number {
  if (baseNum >= 0 && ns <= MAX_SAFE_NS) return Number(ns) - baseNum;
  return offsetFrom(baseNs, ns);
}

function uint32Field(w: WireWriter, field: number, v: number): void {
  w.tag(field, VARINT);
  w.uint32(v);
}

function int32Field(w: WireWriter, field: number, v: number): void {
  w.tag(field, VARINT);
  w.int32(v);
}

function uint64Field(w: WireWriter, field: number, v: number): void {
  w.tag(field, VARINT);
  w.uint64(v);
}

function stringField(w: WireWriter, field: number, v: string): void {
  w.tag(field, DELIMITED);
  w.string(v);
}

function endpointField(w: WireWriter, field: number, ep: Endpoint): void {
  w.tag(field, DELIMITED);
  const start = w.fork();
  const ip = ep.ip;
  if (ip != null && ip !== "") stringField(w, ENDPOINT_FIELDS.ip, ip);
  const port = ep.port;
  if (port != null && port !== 0) uint32Field(w, ENDPOINT_FIELDS.port, port);
  w.ldelim(start);
}

function processField(w: WireWriter, field: number, p: Process): void {
  w.tag(field, DELIMITED);
  const start = w.fork();
  const pid = p.pid;
  if (pid != null && pid !== 0) uint32Field(w, PROCESS_FIELDS.pid, pid);
  const tid = p.tid;
  if (tid != null && tid !== 0) uint32Field(w, PROCESS_FIELDS.tid, tid);
  const comm = p.comm;
  if (comm != null && comm !== "") stringField(w, PROCESS_FIELDS.comm, comm);
  w.ldelim(start);
}
