// Fuzzing the alert rules file: whatever a person (or a broken deploy) puts
// in it, loading ends in valid rules or an AlertRuleError that names the file
// and, when one rule is at fault, that rule and the field. Most cases go to
// validateRuleSet with the document as YAML would give it (parsing YAML costs
// ~20x validating it); the rest go through parseAlertRules as text.
import fc from "fast-check";
import { stringify } from "yaml";
import { describe, expect, test } from "vitest";
import { KEY_FIELDS, MAX_RATE_COUNT, isAlertRuleError, parseAlertRules, validateRuleSet, type AlertRule } from "../../src/alert/mod.js";
import { Outcome, Role, Severity, outcomeName, roleName } from "../../src/model/mod.js";
import { CaseCount, applyEdits, editsArb, fuzzParams, withinHangLimit } from "./budget.js";

const count = new CaseCount();
const FILE = "/etc/tcptrail/alert-rules.yaml";

const dashed = (e: Record<string, string | number>, name: (v: number) => string): string[] =>
  Object.values(e)
    .filter((v): v is number => typeof v === "number" && v !== 0)
    .map((v) => name(v).toLowerCase().replace(/_/g, "-"));

// ---- Valid rule files, from deploy/alert-rules.yaml's documented shape.
const ruleName = fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,16}$/);
const durationText = fc.oneof(
  fc.tuple(fc.integer({ min: 1, max: 100_000 }), fc.constantFrom("ms", "s", "m", "h", "d")).map(([n, u]) => `${n}${u}`),
  fc.constantFrom("1h30m", "1.5h", "90s", "2d"),
  fc.integer({ min: 1, max: 86_400 }),
  fc.integer({ min: 1, max: 86_400 }).map(String),
);
const keyList = fc.uniqueArray(fc.constantFrom(...KEY_FIELDS), { minLength: 1, maxLength: 3 });
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });
const oneOrList = <T>(a: fc.Arbitrary<T>) => fc.oneof(a, fc.array(a, { minLength: 1, maxLength: 3 }));
const validMatch = fc
  .record(
    {
      outcome: oneOrList(fc.constantFrom(...dashed(Outcome as never, outcomeName))),
      reset_origin_role: fc.constantFrom(...dashed(Role as never, roleName)),
      pod: oneOrList(fc.stringMatching(/^[a-z0-9*?-]{1,12}$/)),
      port: oneOrList(fc.integer({ min: 1, max: 65535 })),
    },
    { requiredKeys: [] },
  )
  .filter((m) => Object.keys(m).length > 0);
const validRule = fc.record(
  {
    name: ruleName,
    severity: fc.constantFrom("info", "warning", "critical"),
    summary: fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== ""),
    match: validMatch,
    rate: fc.record({ threshold: fc.integer({ min: 1, max: 1000 }), window: durationText, key: opt(keyList) }).map(dropUndefined),
    dedupe: fc.record({ key: keyList, window: durationText }, { requiredKeys: [] }),
    rate_limit: fc.record({ max: fc.integer({ min: 1, max: 100 }), per: durationText }, { requiredKeys: [] }),
  },
  { requiredKeys: ["name", "severity", "match"] },
);
const validDoc = fc.uniqueArray(validRule, { selector: (r) => r.name, minLength: 1, maxLength: 4 }).map((rules) => ({ rules }));

function dropUndefined<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

// ---- Anything a YAML document can hold, including what JSON cannot (.nan, .inf).
const oddScalar = fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 1e300, 0.0001, "", " ", "null", "~", "yes", "0x1f", "5m5m", "-1s", "1e3", "\u0000", "🚀");
const anyValue: fc.Arbitrary<unknown> = fc.oneof(fc.jsonValue({ maxDepth: 3 }), oddScalar, fc.array(oddScalar, { maxLength: 3 }));

/** Where a value can be put in a rule: its fields, their fields, and near misses of their names. */
const RULE_PATHS = [
  "name", "severity", "summary", "match", "match.outcome", "match.reset_origin_role", "match.pod", "match.port",
  "rate", "rate.threshold", "rate.window", "rate.key", "dedupe", "dedupe.key", "dedupe.window",
  "rate_limit", "rate_limit.max", "rate_limit.per",
  "severty", "matches", "match.outcomes", "rate.windw", "dedupe.keys", "rate_limit.pre",
] as const;

/** A copy of doc with `value` (undefined: removed) at `path` of rule `index`. */
function setIn(doc: { rules: Record<string, unknown>[] }, index: number, path: string, value: unknown): { rules: Record<string, unknown>[] } {
  const rules = structuredClone(doc.rules);
  let at = rules[index]!;
  const parts = path.split(".");
  for (const p of parts.slice(0, -1)) {
    const next = at[p];
    at = at[p] = typeof next === "object" && next !== null && !Array.isArray(next) ? { ...next } : {};
  }
  const last = parts[parts.length - 1]!;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return { rules };
}

/** Does the text say something is null when nothing in what it was given is? */
function mentionsNullWrongly(message: string, given: unknown): boolean {
  const hasNull = (v: unknown): boolean =>
    v === null || (typeof v === "string" && v.includes("null")) || (typeof v === "object" && Object.values(v as object).some(hasNull));
  return /\bnull\b/.test(message) && !hasNull(given);
}

/** What every rule that validates holds. */
function checkRules(rules: AlertRule[]): void {
  const names = new Set<string>();
  for (const r of rules) {
    if (!/^[a-z0-9][a-z0-9_.-]*$/.test(r.name) || names.has(r.name)) throw new Error(`rule name ${JSON.stringify(r.name)}`);
    names.add(r.name);
    if (![Severity.SEVERITY_INFO, Severity.SEVERITY_WARNING, Severity.SEVERITY_CRITICAL].includes(r.severity)) throw new Error("severity");
    if (r.summary.trim() === "") throw new Error("summary");
    const m = r.match;
    if (!m.outcomes && m.resetOriginRole === undefined && !m.pods && !m.ports) throw new Error("a match that matches every trace");
    for (const ms of [r.dedupe.windowMs, r.rateLimit.perMs, ...(r.rate ? [r.rate.windowMs] : [])]) {
      if (!Number.isSafeInteger(ms) || ms <= 0) throw new Error(`a window of ${ms} ms`);
    }
    // The engine keeps up to this many hit times per key: bounded, or a typo costs gigabytes.
    for (const n of [r.rateLimit.max, ...(r.rate ? [r.rate.threshold] : [])]) {
      if (!Number.isSafeInteger(n) || n < 1 || n > MAX_RATE_COUNT) throw new Error(`a count of ${n}`);
    }
  }
}

interface Expect {
  /** The value the test put in the document: the error may call it null only if it holds one. */
  given?: unknown;
  /** Which rule's which field the test changed: the error must name them. */
  fault?: { rule: string; path: string };
}

/** Load, and check the outcome: valid rules, or an AlertRuleError naming the file (and what `expect` says). */
function load(fn: () => AlertRule[], { given, fault }: Expect = {}): "valid" | "error" {
  let rules: AlertRule[];
  try {
    rules = withinHangLimit(() => "loading rules", fn);
  } catch (e) {
    if (!isAlertRuleError(e)) throw e;
    if (e.source !== FILE || !e.message.startsWith(`${FILE}: `)) throw new Error(`does not name the file: ${e.message}`);
    if (given !== undefined && mentionsNullWrongly(e.message, given)) throw new Error(`says null of a value that is not: ${e.message}`);
    if (fault) {
      if (e.rule !== fault.rule) throw new Error(`names rule ${e.rule}, not ${fault.rule}: ${e.message}`);
      // The field itself, or its section (a changed section can leave a sibling field missing).
      if (e.field === undefined || e.field.split(".")[0] !== fault.path.split(".")[0]) throw new Error(`names field ${e.field} for a change of ${fault.path}: ${e.message}`);
      if (!e.message.includes(`field ${e.field}`)) throw new Error(`message does not say the field: ${e.message}`);
    }
    return "error";
  }
  checkRules(rules);
  return "valid";
}

describe("alert rules under fuzzing", () => {
  test("valid rule files load, as documents and as YAML", () => {
    fc.assert(
      fc.property(validDoc, (doc) => {
        count.add(2);
        expect(load(() => validateRuleSet(doc, FILE))).toBe("valid");
        expect(load(() => parseAlertRules(stringify(doc), FILE))).toBe("valid");
      }),
      fuzzParams(1_000),
    );
  });

  test("any value at any field of a valid rule: valid rules, or an error naming the file, the rule and the field", () => {
    const seen = { valid: 0, error: 0 };
    const mutation = fc.tuple(fc.nat(), fc.constantFrom(...RULE_PATHS), fc.option(anyValue, { nil: undefined, freq: 8 }));
    fc.assert(
      fc.property(validDoc, fc.array(mutation, { minLength: 10, maxLength: 10 }), (doc, mutations) => {
        for (const [i, path, value] of mutations) {
          count.add();
          const index = i % doc.rules.length;
          const changed = setIn(doc, index, path, value);
          const rule = changed.rules[index]!;
          const label = typeof rule.name === "string" && rule.name !== "" ? rule.name : `#${index + 1}`;
          seen[load(() => validateRuleSet(changed, FILE), { given: value === undefined ? "" : value, fault: { rule: label, path } })]++;
        }
      }),
      fuzzParams(6_000),
    );
    expect(seen.valid).toBeGreaterThan(0);
    expect(seen.error).toBeGreaterThan(0);
  });

  test("any document: valid rules or an error naming the file", () => {
    const doc = fc.oneof(anyValue, fc.record({ rules: anyValue }), fc.record({ rules: fc.array(fc.oneof(anyValue, validRule), { maxLength: 3 }) }), fc.dictionary(fc.string({ maxLength: 6 }), anyValue, { maxKeys: 3 }));
    fc.assert(
      fc.property(doc, (d) => {
        count.add();
        load(() => validateRuleSet(d, FILE), { given: d });
      }),
      fuzzParams(33_000),
    );
  });

  test("a valid rules file with its text edited: valid rules or an error naming the file", () => {
    const seen = { valid: 0, error: 0 };
    const insert = fc.oneof(fc.string({ unit: "binary", maxLength: 4 }), fc.constantFrom(":", "- ", "\n", "  ", "#", "&a ", "*a", "!!binary ", "? ", "{", "[", "'", '"', ".nan", "~"));
    fc.assert(
      fc.property(validDoc, fc.array(editsArb(insert, 3), { minLength: 5, maxLength: 5 }), (doc, editSets) => {
        const text = stringify(doc);
        for (const edits of editSets) {
          count.add();
          const edited = applyEdits(text, edits);
          seen[load(() => parseAlertRules(edited, FILE))]++;
        }
      }),
      fuzzParams(600),
    );
    expect(seen.valid).toBeGreaterThan(0);
    expect(seen.error).toBeGreaterThan(0);
  });

  test("arbitrary text and YAML's own traps: an error naming the file, never another throw", () => {
    const trap = fc.oneof(
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.string({ unit: fc.constantFrom(..."rules: -[]{}&*!|>'\"#?,\n 0a."), maxLength: 80 }),
      // Aliases: undefined ones, and the exponential "billion laughs" expansion.
      fc.integer({ min: 1, max: 12 }).map((n) => {
        const lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"];
        for (let i = 1; i <= n; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(", ")}]`);
        return `${lines.join("\n")}\nrules: *a${n}\n`;
      }),
      fc.string({ maxLength: 8 }).map((s) => `rules: [ *${s.replace(/[\s,[\]{}]/g, "") || "x"} ]\n`),
    );
    fc.assert(
      fc.property(trap, (text) => {
        count.add();
        load(() => parseAlertRules(text, FILE));
      }),
      fuzzParams(5_000),
    );
  });

  test(`the rules loader saw at least the budget of generated files`, () => {
    count.expectBudgetSpent();
  });
});
