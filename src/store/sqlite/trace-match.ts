// A TraceFilter as a predicate on decoded traces, with the same meaning the
// SQL over hop rows had: hot rows and sealed blocks are both matched here,
// so a trace answers the same queries before and after it is sealed.
import { labelsMatch, type LabelSelector, type Trace } from "../../model/mod.js";
import { BadQueryError } from "../errors.js";
import { decodeCursor, type CursorKey } from "../cursor.js";
import type { TraceFilter } from "../store.js";
import { DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT } from "./options.js";

/** A TraceFilter checked and normalized once per query. */
export interface TraceQuery {
  limit: number;
  since?: number;
  until?: number;
  pod?: string;
  /** Empty: no label condition. */
  labels: LabelSelector;
  ip?: string;
  port?: number;
  outcomes: number[];
  role?: number;
  cursor?: CursorKey;
}

export function traceQuery(f: TraceFilter): TraceQuery {
  const limit = f.limit ?? DEFAULT_LIST_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST_LIMIT) {
    throw new BadQueryError(`limit must be an integer between 1 and ${MAX_LIST_LIMIT}`, { param: "limit" });
  }
  const outcomes = f.outcome === undefined ? [] : Array.isArray(f.outcome) ? f.outcome : [f.outcome];
  return {
    limit,
    since: f.since,
    until: f.until,
    pod: f.pod,
    labels: f.labels ?? [],
    ip: f.ip,
    port: f.port,
    outcomes,
    role: f.role,
    cursor: f.cursor === undefined ? undefined : decodeCursor(f.cursor),
  };
}

/** Does `a` come before `b` in a listing (newer start first, then the larger id)? */
export function listsBefore(a: Trace, b: Trace): boolean {
  return a.startUs > b.startUs || (a.startUs === b.startUs && a.traceId > b.traceId);
}

/** Is `t` after the cursor, i.e. on a later page than the one that ended there? */
export function afterCursor(t: Trace, c: CursorKey): boolean {
  return t.startUs < c.startUs || (t.startUs === c.startUs && t.traceId < c.traceId);
}

/** Does `t` pass every condition of `q` (time window, cursor, outcome, role, pod, address)? */
export function traceMatches(t: Trace, q: TraceQuery): boolean {
  // An open trace (end 0) has not ended, so it overlaps every later window.
  if (q.since !== undefined && t.endUs !== 0 && t.endUs < q.since) return false;
  if (q.until !== undefined && t.startUs > q.until) return false;
  if (q.cursor && !afterCursor(t, q.cursor)) return false;
  if (q.outcomes.length > 0 && !q.outcomes.includes(t.outcome)) return false;
  if (q.role !== undefined && (t.resetOrigin?.role ?? 0) !== q.role) return false;
  if (q.labels.length > 0 && !hasLabelledEndpoint(t, q.labels)) return false;
  if (q.pod === undefined && q.ip === undefined && q.port === undefined) return true;
  return hasEndpoint(t, q);
}

/** A hop endpoint whose pod carries every label of the selector (one pod: the pairs select it together). */
function hasLabelledEndpoint(t: Trace, labels: LabelSelector): boolean {
  for (const h of t.hops) {
    if (labelsMatch(labels, h.client?.labels) || labelsMatch(labels, h.server?.labels)) return true;
  }
  return false;
}

/** A hop endpoint in the pod and with the address (an absent endpoint reads as the empty one). */
function hasEndpoint(t: Trace, q: TraceQuery): boolean {
  let podSeen = q.pod === undefined;
  let addrSeen = q.ip === undefined && q.port === undefined;
  for (const h of t.hops) {
    for (const e of [h.client, h.server]) {
      if (!podSeen && (e?.pod ?? "") === q.pod) podSeen = true;
      if (!addrSeen && (q.ip === undefined || (e?.ip ?? "") === q.ip) && (q.port === undefined || (e?.port ?? 0) === q.port)) addrSeen = true;
      if (podSeen && addrSeen) return true;
    }
  }
  return false;
}
