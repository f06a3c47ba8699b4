// The shape of an alert rule and its validation. Rule files are written by
// people: every error names the rule and the field, and unknown fields are
// rejected so that a typo ("severty") cannot silently disable a setting.
import { Outcome, Role, Severity, outcomeFromName, outcomeName, roleFromName, roleName, severityFromName } from "../model/mod.js";
import { parseDuration } from "./duration.js";
import { AlertRuleError } from "./errors.js";

/** Trace facts that can make up a de-duplication or rate key. */
export const KEY_FIELDS = ["rule", "source_pod", "destination", "reset_origin_pod", "outcome", "trace_id"] as const;
export type KeyField = (typeof KEY_FIELDS)[number];

/** Which traces a rule looks at. Every present criterion must hold; lists mean "any of". */
export interface RuleMatch {
  /** Trace outcomes (Outcome values). */
  readonly outcomes?: readonly Outcome[];
  /** Role of the endpoint where the failure began. */
  readonly resetOriginRole?: Role;
  /** Pod name globs (`*`, `?`); a trace matches when any endpoint of any hop is in such a pod. */
  readonly pods?: readonly string[];
  /** Destination ports (the first hop's original destination, else its server). */
  readonly ports?: readonly number[];
}

/** Fire only when more than `threshold` matching traces share a key within `windowMs`. */
export interface RateSpec {
  readonly threshold: number;
  readonly windowMs: number;
  /** Default: source_pod, destination. */
  readonly key: readonly KeyField[];
}

/** Matches with the same key within `windowMs` of the first fold into one alert. */
export interface DedupeSpec {
  /** Default: rule, source_pod, destination. */
  readonly key: readonly KeyField[];
  /** Default: 5 minutes. */
  readonly windowMs: number;
}

/** At most `max` alerts per de-duplication key in any `perMs`. */
export interface RateLimitSpec {
  /** Default: 1. */
  readonly max: number;
  /** Default: 1 minute. */
  readonly perMs: number;
}

export interface AlertRule {
  readonly name: string;
  readonly severity: Severity;
  /** What firing means, prefixed to the trace's explanation. Default: `rule <name> fired`. */
  readonly summary: string;
  readonly match: RuleMatch;
  readonly rate?: RateSpec;
  readonly dedupe: DedupeSpec;
  readonly rateLimit: RateLimitSpec;
}

export const DEFAULT_DEDUPE_KEY: readonly KeyField[] = ["rule", "source_pod", "destination"];
export const DEFAULT_RATE_KEY: readonly KeyField[] = ["source_pod", "destination"];
export const DEFAULT_DEDUPE_WINDOW_MS = 5 * 60_000;
export const DEFAULT_RATE_LIMIT: RateLimitSpec = { max: 1, perMs: 60_000 };
/**
 * Largest rate.threshold and rate_limit.max: the engine remembers that many
 * hit times per key, so a typo of a few zeros must be an error in the file,
 * not gigabytes (or an "Invalid array length" throw at the first match).
 */
export const MAX_RATE_COUNT = 100_000;

const RULE_NAME = /^[a-z0-9][a-z0-9_.-]*$/;
const SEVERITIES = ["info", "warning", "critical"];

type Obj = Record<string, unknown>;

/** Validates one rule as parsed from YAML (snake_case fields). */
export function validateRule(raw: unknown, index: number, source: string): AlertRule {
  const label = isObj(raw) && typeof raw.name === "string" && raw.name !== "" ? raw.name : `#${index + 1}`;
  const fail = (field: string | undefined, message: string): never => {
    throw new AlertRuleError(message, field === undefined ? { source, rule: label } : { source, rule: label, field });
  };
  if (!isObj(raw)) return fail(undefined, `must be a mapping (got ${describe(raw)})`);
  rejectUnknown(raw, ["name", "severity", "summary", "match", "rate", "dedupe", "rate_limit"], "", fail);

  const name = raw.name;
  if (typeof name !== "string" || !RULE_NAME.test(name)) {
    fail("name", `must be lowercase letters, digits, "-", "_" or "." (got ${describe(name)})`);
  }
  const sevText = raw.severity;
  const severity = typeof sevText === "string" && SEVERITIES.includes(sevText) ? severityFromName(sevText) : undefined;
  if (severity === undefined) fail("severity", `must be one of ${SEVERITIES.join(", ")} (got ${describe(sevText)})`);
  const summary = raw.summary ?? `rule ${String(name)} fired`;
  if (typeof summary !== "string" || summary.trim() === "") fail("summary", `must be a non-empty string`);

  const match = validateMatch(raw.match, fail);
  const rate = raw.rate === undefined ? undefined : validateRate(raw.rate, fail);
  const dedupe = validateDedupe(raw.dedupe, fail);
  const rateLimit = validateRateLimit(raw.rate_limit, fail);
  return {
    name: name as string,
    severity: severity as Severity,
    summary: (summary as string).trim(),
    match,
    ...(rate ? { rate } : {}),
    dedupe,
    rateLimit,
  };
}

/** Validates the whole document: `{ rules: [...] }` with unique names. */
export function validateRuleSet(doc: unknown, source: string): AlertRule[] {
  if (!isObj(doc)) throw new AlertRuleError(`expected a mapping with a "rules" list (got ${describe(doc)})`, { source });
  for (const k of Object.keys(doc)) {
    if (k !== "rules") throw new AlertRuleError(`unknown top-level field "${k}" (expected only "rules")`, { source });
  }
  if (!Array.isArray(doc.rules)) {
    throw new AlertRuleError(`"rules" must be a list (got ${describe(doc.rules)})`, { source });
  }
  const rules = doc.rules.map((r, i) => validateRule(r, i, source));
  const seen = new Set<string>();
  for (const r of rules) {
    if (seen.has(r.name)) throw new AlertRuleError(`duplicate rule name`, { source, rule: r.name, field: "name" });
    seen.add(r.name);
  }
  return rules;
}

type Fail = (field: string | undefined, message: string) => never;

function validateMatch(raw: unknown, fail: Fail): RuleMatch {
  if (!isObj(raw)) return fail("match", `must be a mapping (got ${describe(raw)})`);
  rejectUnknown(raw, ["outcome", "reset_origin_role", "pod", "port"], "match.", fail);
  // An empty match would alert on every trace, completed ones included.
  if (Object.keys(raw).length === 0) fail("match", `needs at least one of outcome, reset_origin_role, pod, port`);

  const match: { -readonly [K in keyof RuleMatch]: RuleMatch[K] } = {};
  if (raw.outcome !== undefined) {
    match.outcomes = listOf(raw.outcome, "match.outcome", fail).map((v) => {
      const o = typeof v === "string" ? outcomeFromName(v) : undefined;
      if (o === undefined || o === Outcome.OUTCOME_UNSPECIFIED) {
        fail("match.outcome", `unknown outcome ${describe(v)} (expected ${knownNames(Outcome, outcomeName)})`);
      }
      return o as Outcome;
    });
  }
  if (raw.reset_origin_role !== undefined) {
    const v = raw.reset_origin_role;
    const r = typeof v === "string" ? roleFromName(v) : undefined;
    if (r === undefined || r === Role.ROLE_UNSPECIFIED) {
      fail("match.reset_origin_role", `unknown role ${describe(v)} (expected ${knownNames(Role, roleName)})`);
    }
    match.resetOriginRole = r as Role;
  }
  if (raw.pod !== undefined) {
    match.pods = listOf(raw.pod, "match.pod", fail).map((v) => {
      if (typeof v !== "string" || v === "") fail("match.pod", `must be a pod name or glob (got ${describe(v)})`);
      return v as string;
    });
  }
  if (raw.port !== undefined) {
    match.ports = listOf(raw.port, "match.port", fail).map((v) => {
      if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > 65_535) {
        fail("match.port", `must be a port number 1-65535 (got ${describe(v)})`);
      }
      return v as number;
    });
  }
  return match;
}

function validateRate(raw: unknown, fail: Fail): RateSpec {
  if (!isObj(raw)) return fail("rate", `must be a mapping with threshold and window (got ${describe(raw)})`);
  rejectUnknown(raw, ["threshold", "window", "key"], "rate.", fail);
  const threshold = raw.threshold;
  if (!Number.isInteger(threshold) || (threshold as number) < 1) {
    fail("rate.threshold", `must be a positive integer (got ${describe(threshold)})`);
  }
  if ((threshold as number) > MAX_RATE_COUNT) fail("rate.threshold", `must be at most ${MAX_RATE_COUNT} (got ${describe(threshold)})`);
  return {
    threshold: threshold as number,
    windowMs: duration(raw.window, "rate.window", fail),
    key: raw.key === undefined ? DEFAULT_RATE_KEY : keyFields(raw.key, "rate.key", fail),
  };
}

function validateDedupe(raw: unknown, fail: Fail): DedupeSpec {
  if (raw === undefined) return { key: DEFAULT_DEDUPE_KEY, windowMs: DEFAULT_DEDUPE_WINDOW_MS };
  if (!isObj(raw)) return fail("dedupe", `must be a mapping with key and window (got ${describe(raw)})`);
  rejectUnknown(raw, ["key", "window"], "dedupe.", fail);
  return {
    key: raw.key === undefined ? DEFAULT_DEDUPE_KEY : keyFields(raw.key, "dedupe.key", fail),
    windowMs: raw.window === undefined ? DEFAULT_DEDUPE_WINDOW_MS : duration(raw.window, "dedupe.window", fail),
  };
}

function validateRateLimit(raw: unknown, fail: Fail): RateLimitSpec {
  if (raw === undefined) return DEFAULT_RATE_LIMIT;
  if (!isObj(raw)) return fail("rate_limit", `must be a mapping with max and per (got ${describe(raw)})`);
  rejectUnknown(raw, ["max", "per"], "rate_limit.", fail);
  const max = raw.max ?? DEFAULT_RATE_LIMIT.max;
  if (!Number.isInteger(max) || (max as number) < 1) fail("rate_limit.max", `must be a positive integer (got ${describe(max)})`);
  if ((max as number) > MAX_RATE_COUNT) fail("rate_limit.max", `must be at most ${MAX_RATE_COUNT} (got ${describe(max)})`);
  return {
    max: max as number,
    perMs: raw.per === undefined ? DEFAULT_RATE_LIMIT.perMs : duration(raw.per, "rate_limit.per", fail),
  };
}

function keyFields(raw: unknown, field: string, fail: Fail): KeyField[] {
  const list = listOf(raw, field, fail);
  if (list.length === 0) fail(field, `must name at least one of ${KEY_FIELDS.join(", ")}`);
  return list.map((v) => {
    if (typeof v !== "string" || !(KEY_FIELDS as readonly string[]).includes(v)) {
      fail(field, `unknown key field ${describe(v)} (expected ${KEY_FIELDS.join(", ")})`);
    }
    return v as KeyField;
  });
}

function duration(raw: unknown, field: string, fail: Fail): number {
  if (raw === undefined) return fail(field, `is required`);
  const d = parseDuration(raw);
  return "ms" in d ? d.ms : fail(field, d.error);
}

function listOf(raw: unknown, field: string, fail: Fail): unknown[] {
  if (Array.isArray(raw)) return raw;
  if (raw === null || isObj(raw)) return fail(field, `must be a value or a list (got ${describe(raw)})`);
  return [raw];
}

function rejectUnknown(raw: Obj, known: string[], prefix: string, fail: Fail): void {
  for (const k of Object.keys(raw)) {
    if (!known.includes(k)) fail(`${prefix}${k}`, `unknown field (expected one of ${known.join(", ")})`);
  }
}

function knownNames(e: Record<string, unknown>, name: (v: number) => string): string {
  return Object.values(e)
    .filter((v): v is number => typeof v === "number" && v !== 0)
    .map((v) => name(v).toLowerCase().replace(/_/g, "-"))
    .join(", ");
}

function isObj(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "a list";
  if (v === null) return "null";
  // JSON has no NaN or Infinity and would print YAML's .nan and .inf as "null".
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  return typeof v === "object" ? "a mapping" : JSON.stringify(v);
}
