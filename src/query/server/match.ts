// In-memory versions of the store's filters, for the live streams: a streamed
// trace matches exactly when listTraces with the same filter would return it.
import { labelsMatch, type ConnEvent, type ConnEventInit, type HopEndpoint, type Trace, type TraceInit } from "../../model/mod.js";
import type { TraceFilter } from "../../store/mod.js";

export type LiveTraceFilter = Pick<TraceFilter, "pod" | "labels" | "ip" | "port" | "outcome" | "role">;

export interface LiveEventFilter {
  node?: string;
  pod?: string;
  /** Local or remote endpoint; with `port`, both on the same endpoint. */
  ip?: string;
  port?: number;
  kinds?: number[];
}

const endpointMatches = (ep: { ip?: string | null; port?: number | null } | null | undefined, ip?: string, port?: number): boolean =>
  !!ep && (ip === undefined || ep.ip === ip) && (port === undefined || ep.port === port);

export function traceMatches(t: Trace | TraceInit, f: LiveTraceFilter): boolean {
  if (f.outcome !== undefined) {
    const outcomes = Array.isArray(f.outcome) ? f.outcome : [f.outcome];
    if (!outcomes.includes(t.outcome ?? 0)) return false;
  }
  if (f.role !== undefined && (t.resetOrigin?.role ?? 0) !== f.role) return false;
  const endpoints: HopEndpoint[] = [];
  for (const h of t.hops ?? []) {
    if (h.client) endpoints.push(h.client);
    if (h.server) endpoints.push(h.server);
  }
  if (f.pod !== undefined && !endpoints.some((ep) => ep.pod === f.pod)) return false;
  const labels = f.labels;
  if (labels !== undefined && labels.length > 0 && !endpoints.some((ep) => labelsMatch(labels, ep.labels))) return false;
  if ((f.ip !== undefined || f.port !== undefined) && !endpoints.some((ep) => endpointMatches(ep, f.ip, f.port))) {
    return false;
  }
  return true;
}

export function eventMatches(node: string, e: ConnEvent | ConnEventInit, f: LiveEventFilter): boolean {
  if (f.node !== undefined && node !== f.node) return false;
  if (f.pod !== undefined && e.pod !== f.pod) return false;
  if (f.kinds !== undefined && !f.kinds.includes(e.kind ?? 0)) return false;
  if (f.ip !== undefined || f.port !== undefined) {
    return endpointMatches(e.local, f.ip, f.port) || endpointMatches(e.remote, f.ip, f.port);
  }
  return true;
}
