// Query parameters of the API: JSON schemas fastify validates first (types,
// ranges, unknown names), then the semantic parsing schemas cannot express.
// Each property's `description` completes the sentence "<name> must be …",
// which is how a schema failure becomes a readable 400.
import { isIP } from "node:net";
import { LABEL_SELECTOR_SYNTAX, Outcome, Role, kindFromName, outcomeFromName, outcomeName, parseLabelPairs, roleFromName, roleName } from "../../model/mod.js";
import { MAX_LIST_LIMIT, type TimelineQuery, type TraceFilter } from "../../store/mod.js";
import { BadParameterError } from "../mod.js";
import type { LiveEventFilter, LiveTraceFilter } from "./match.js";
import { TIME_SYNTAX, isInvalidTimeError, parseTimeUs } from "../../timefmt/mod.js";

export const MAX_TIMELINE_LIMIT = 10_000;

const OUTCOMES = Object.values(Outcome).filter((v): v is number => typeof v === "number" && v !== 0).map(outcomeName);
const ROLES = Object.values(Role).filter((v): v is number => typeof v === "number" && v !== 0).map(roleName);

const time = { type: "string", minLength: 1, maxLength: 64, description: TIME_SYNTAX };
const props = {
  since: time,
  until: time,
  pod: { type: "string", minLength: 1, maxLength: 253, description: "a pod name" },
  label: { type: "string", minLength: 1, maxLength: 1024, description: LABEL_SELECTOR_SYNTAX },
  node: { type: "string", minLength: 1, maxLength: 253, description: "a node name" },
  ip: { type: "string", minLength: 1, maxLength: 45, description: "an IPv4 or IPv6 address" },
  port: { type: "integer", minimum: 1, maximum: 65535, description: "an integer between 1 and 65535" },
  outcome: { type: "string", minLength: 1, maxLength: 256, description: `one or more (comma-separated) of ${OUTCOMES.join(", ")}` },
  role: { type: "string", minLength: 1, maxLength: 16, description: `one of ${ROLES.join(", ")}` },
  kind: { type: "string", minLength: 1, maxLength: 256, description: "one or more (comma-separated) event kinds" },
  cursor: { type: "string", minLength: 1, maxLength: 512, description: "a next_cursor returned by this API" },
  trace: { type: "string", minLength: 1, maxLength: 256, description: "a trace id" },
  socket: { type: "string", minLength: 1, maxLength: 512, description: "a socket id node/sock/birth_ts" },
} as const;

const querySchema = <K extends keyof typeof props>(keys: K[], extra: Record<string, object> = {}) => ({
  type: "object",
  additionalProperties: false,
  properties: { ...Object.fromEntries(keys.map((k) => [k, props[k]])), ...extra },
});

export const traceListSchema = querySchema(["since", "until", "pod", "label", "ip", "port", "outcome", "role", "cursor"], {
  limit: { type: "integer", minimum: 1, maximum: MAX_LIST_LIMIT, description: `an integer between 1 and ${MAX_LIST_LIMIT}` },
});
export const timelineSchema = querySchema(["trace", "socket", "ip", "port", "since", "until"], {
  limit: { type: "integer", minimum: 1, maximum: MAX_TIMELINE_LIMIT, description: `an integer between 1 and ${MAX_TIMELINE_LIMIT}` },
});
export const traceStreamSchema = querySchema(["pod", "label", "ip", "port", "outcome", "role"]);
export const eventStreamSchema = querySchema(["node", "pod", "ip", "port", "kind"]);
export const traceIdSchema = {
  type: "object",
  required: ["id"],
  properties: { id: { ...props.trace, description: "a trace id of at most 256 characters" } },
} as const;

export interface TraceListQuery {
  since?: string;
  until?: string;
  pod?: string;
  /** key=value pairs, comma-separated: an endpoint's pod must carry them all. */
  label?: string;
  ip?: string;
  port?: number;
  outcome?: string;
  role?: string;
  limit?: number;
  cursor?: string;
}

export interface TimelineParams {
  trace?: string;
  socket?: string;
  ip?: string;
  port?: number;
  since?: string;
  until?: string;
  limit?: number;
}

export interface EventStreamQuery {
  node?: string;
  pod?: string;
  ip?: string;
  port?: number;
  kind?: string;
}

function timeParam(name: string, v: string | undefined, nowUs: number): number | undefined {
  if (v === undefined) return undefined;
  try {
    return parseTimeUs(v, { option: name, nowUs });
  } catch (e) {
    // The grammar's own message already names the parameter; the API's 400 carries it as is.
    if (isInvalidTimeError(e)) throw new BadParameterError(e.message, { property: name, cause: e });
    throw e;
  }
}

function window(q: { since?: string; until?: string }, nowUs: number): { since?: number; until?: number } {
  const since = timeParam("since", q.since, nowUs);
  const until = timeParam("until", q.until, nowUs);
  if (since !== undefined && until !== undefined && until < since) {
    throw BadParameterError.format("until", "must not be before since");
  }
  return { since, until };
}

function ipParam(v: string | undefined): string | undefined {
  if (v !== undefined && !isIP(v)) throw BadParameterError.format("ip", `must be ${props.ip.description}`);
  return v;
}

function names(name: string, v: string, parse: (s: string) => number | undefined, description: string): number[] {
  return v.split(",").map((s) => {
    const n = parse(s.trim());
    if (n === undefined || n === 0) throw BadParameterError.format(name, `must be ${description}`);
    return n;
  });
}

function liveTraceFilter(q: { pod?: string; label?: string; ip?: string; port?: number; outcome?: string; role?: string }): LiveTraceFilter {
  const f: LiveTraceFilter = { pod: q.pod, ip: ipParam(q.ip), port: q.port };
  if (q.label !== undefined) {
    const labels = parseLabelPairs([q.label]);
    if ("bad" in labels) throw BadParameterError.format("label", `must be ${LABEL_SELECTOR_SYNTAX}`);
    f.labels = labels;
  }
  if (q.outcome !== undefined) f.outcome = names("outcome", q.outcome, outcomeFromName, props.outcome.description);
  if (q.role !== undefined) f.role = names("role", q.role, roleFromName, props.role.description)[0];
  return f;
}

export function parseTraceList(q: TraceListQuery, nowUs: number = Date.now() * 1000): TraceFilter {
  return { ...liveTraceFilter(q), ...window(q, nowUs), limit: q.limit, cursor: q.cursor };
}

export const parseTraceStream = (q: TraceListQuery): LiveTraceFilter => liveTraceFilter(q);

export function parseTimeline(q: TimelineParams, nowUs: number = Date.now() * 1000): TimelineQuery {
  const given = [q.trace, q.socket, q.ip].filter((v) => v !== undefined).length;
  if (given !== 1) throw new BadParameterError("give exactly one of trace, socket or ip", { property: "trace" });
  if (q.port !== undefined && q.ip === undefined) throw BadParameterError.format("port", "needs ip");
  return { traceId: q.trace, socketId: q.socket, ip: ipParam(q.ip), port: q.port, ...window(q, nowUs), limit: q.limit };
}

export function parseEventStream(q: EventStreamQuery): LiveEventFilter {
  return {
    node: q.node,
    pod: q.pod,
    ip: ipParam(q.ip),
    port: q.port,
    kinds: q.kind === undefined ? undefined : names("kind", q.kind, kindFromName, props.kind.description),
  };
}
