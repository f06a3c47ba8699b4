// The event model: generated protobuf classes (from proto/tcptrail/v1) and
// small helpers every layer needs to name enums and endpoints the same way.
import "./protobuf-runtime.js";
import { tcptrail } from "../gen/tcptrail.js";

export const v1 = tcptrail.v1;

// ConnEvent and ConnEventInit carry exact bigint kernel times (tsNs,
// gapStartNs) instead of the wire's offsets: see event-wire.ts.
export type { ConnEvent, ConnEventInit, PodLabels, WireEventInit } from "./event-wire.js";
export { emptyWireEvent, toWireEvent, withKernelTimes } from "./event-wire.js";
/** The message as decoded, before its events get their kernel times (transport only). */
export type EventBatch = tcptrail.v1.EventBatch;
export type Endpoint = tcptrail.v1.Endpoint.$Properties;
export type Process = tcptrail.v1.Process.$Properties;
export type Trace = tcptrail.v1.Trace;
export type TraceInit = tcptrail.v1.Trace.$Properties;
export type Hop = tcptrail.v1.Hop;
export type HopEndpoint = tcptrail.v1.HopEndpoint.$Properties;
export type Alert = tcptrail.v1.Alert;

export const EventKind = tcptrail.v1.EventKind;
export type EventKind = tcptrail.v1.EventKind;
export const TcpState = tcptrail.v1.TcpState;
export type TcpState = tcptrail.v1.TcpState;
export const ResetReason = tcptrail.v1.ResetReason;
export type ResetReason = tcptrail.v1.ResetReason;
export const Role = tcptrail.v1.Role;
export type Role = tcptrail.v1.Role;
export const SidecarLeg = tcptrail.v1.SidecarLeg;
export type SidecarLeg = tcptrail.v1.SidecarLeg;
export const Outcome = tcptrail.v1.Outcome;
export type Outcome = tcptrail.v1.Outcome;
export const Severity = tcptrail.v1.Severity;
export type Severity = tcptrail.v1.Severity;

export * from "./names.js";
export { formatSocketId, parseSocketId, type SocketIdentity } from "./socket-id.js";
export { LABEL_SELECTOR_SYNTAX, labelsMatch, parseLabelPairs, type LabelSelector } from "./label-selector.js";
export { MAX_TIMER_MS, positiveIntervalMs, type InvalidOptionError } from "./interval-option.js";
export {
  MAX_KERNEL_NS,
  NO_KERNEL_NS,
  baseNsOf,
  baseSecondsOf,
  fromOffset,
  isKernelNs,
  kernelUs,
  monotonicNs,
  nsBetween,
  nsSpan,
  offsetFrom,
  parseKernelNs,
  type KernelNs,
} from "./kernel-time.js";
