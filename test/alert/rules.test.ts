import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { AlertRuleError, defaultAlertRules, isAlertRuleError, loadAlertRules, parseAlertRules } from "../../src/alert/mod.js";
import { Outcome, Role, Severity } from "../../src/model/mod.js";
import { tempDirForAll } from "../helpers/mod.js";

const deployRules = fileURLToPath(new URL("../../deploy/alert-rules.yaml", import.meta.url));

function ruleError(text: string): AlertRuleError {
  try {
    parseAlertRules(text, "test.yaml");
  } catch (e) {
    if (isAlertRuleError(e)) return e;
    throw e;
  }
  throw new Error("expected an AlertRuleError");
}

describe("loadAlertRules", () => {
  const tmp = tempDirForAll("alert-rules");
  it("returns the six default rules when no file is given", async () => {
    const rules = await loadAlertRules();
    expect(rules.map((r) => [r.name, r.severity])).toEqual([
      ["reset-from-sidecar", Severity.SEVERITY_CRITICAL],
      ["sidecar-exit", Severity.SEVERITY_CRITICAL],
      ["reset-untraced", Severity.SEVERITY_WARNING],
      ["refused", Severity.SEVERITY_WARNING],
      ["upstream-idle-close-race", Severity.SEVERITY_WARNING],
      ["reset-rate", Severity.SEVERITY_WARNING],
    ]);
    const sidecar = rules[0]!;
    expect(sidecar.match.resetOriginRole).toBe(Role.ROLE_SIDECAR);
    expect(sidecar.dedupe).toEqual({ key: ["rule", "source_pod", "destination"], windowMs: 300_000 });
    expect(sidecar.rateLimit).toEqual({ max: 1, perMs: 60_000 });
    expect(rules[1]!.match.outcomes).toEqual([Outcome.OUTCOME_PROCESS_EXIT]);
    expect(rules[4]!.match.outcomes).toEqual([Outcome.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE]);
    expect(rules[4]!.summary).toMatch(/keep-alive \(idle\) timeout must be longer than the sidecar's idle timeout/);
    expect(rules[5]!.rate).toEqual({ threshold: 20, windowMs: 60_000, key: ["source_pod", "destination"] });
  });

  it("deploy/alert-rules.yaml spells out exactly the built-in defaults", async () => {
    expect(await loadAlertRules(deployRules)).toEqual(defaultAlertRules());
  });

  it("applies documented defaults for omitted dedupe, rate_limit and summary", async () => {
    const path = join(tmp.path, "minimal.yaml");
    await writeFile(path, "rules:\n  - name: timeouts\n    severity: info\n    match: { outcome: timeout, port: [8080, 9090] }\n");
    const [rule] = await loadAlertRules(path);
    expect(rule).toEqual({
      name: "timeouts",
      severity: Severity.SEVERITY_INFO,
      summary: "rule timeouts fired",
      match: { outcomes: [Outcome.OUTCOME_TIMEOUT], ports: [8080, 9090] },
      dedupe: { key: ["rule", "source_pod", "destination"], windowMs: 300_000 },
      rateLimit: { max: 1, perMs: 60_000 },
    });
  });

  it("names the file when it cannot be read", async () => {
    const missing = join(tmp.path, "nope.yaml");
    await expect(loadAlertRules(missing)).rejects.toThrow(`${missing}: cannot read rules: no such file`);
    await expect(loadAlertRules(missing)).rejects.toMatchObject({ code: "ERR_ALERT_RULE", source: missing });
  });

  it("reports broken YAML with its line", () => {
    const e = ruleError("rules:\n  - name: x\n    severity: [warning\n");
    expect(e.message).toMatch(/^test\.yaml: invalid YAML at line \d+, column \d+: /);
    expect(e.message.match(/at line/g)).toHaveLength(1);
    expect(e.rule).toBeUndefined();
  });

  it("rejects duplicate keys instead of silently keeping the last", () => {
    expect(ruleError("rules: []\nrules: []\n").message).toMatch(/invalid YAML.*[Mm]ap keys must be unique/);
  });

  it.each([
    ["severity: fatal", "severity", /must be one of info, warning, critical \(got "fatal"\)/],
    ["severty: warning", "severty", /unknown field/],
    ["match: {}", "match", /needs at least one of/],
    ["match: { outcome: [refused, exploded] }", "match.outcome", /unknown outcome "exploded"/],
    ["match: { reset_origin_role: proxy }", "match.reset_origin_role", /unknown role "proxy" \(expected app, sidecar, network\)/],
    ["match: { port: 70000 }", "match.port", /1-65535 \(got 70000\)/],
    ["rate: { threshold: -1, window: 60s }", "rate.threshold", /positive integer \(got -1\)/],
    ["rate: { threshold: 5, window: soon }", "rate.window", /expected a duration/],
    ["rate: { threshold: 5 }", "rate.window", /is required/],
    ["dedupe: { key: [rule, pod] }", "dedupe.key", /unknown key field "pod"/],
    ["rate_limit: { max: 0 }", "rate_limit.max", /positive integer \(got 0\)/],
    // Found by fuzzing (test/fuzz/alert-rules.test.ts): counts the engine would
    // allocate per key, windows no clock reaches, and YAML's .nan/.inf, which
    // the messages used to call null.
    ["rate: { threshold: 1000000000, window: 60s }", "rate.threshold", /must be at most 100000 \(got 1000000000\)/],
    ["rate_limit: { max: 5000000000 }", "rate_limit.max", /must be at most 100000 \(got 5000000000\)/],
    ["dedupe: { window: 1e300 }", "dedupe.window", /must be a duration under 285 000 years \(got 1e\+300\)/],
    ["severity: .nan", "severity", /must be one of info, warning, critical \(got NaN\)/],
    ["match: { port: .inf }", "match.port", /1-65535 \(got Infinity\)/],
    ["rate: { threshold: 5, window: .inf }", "rate.window", /must be a positive duration \(got Infinity\)/],
    ["dedupe: { window: [.nan] }", "dedupe.window", /or a number of seconds \(got a list\)/],
  ])("names rule and field for %s", (line, field, message) => {
    const base = { severity: "severity: warning", match: "match: { outcome: refused }" };
    const lines = ["name: bad-rule", base.severity, base.match].filter((l) => l.split(":")[0] !== line.split(":")[0]);
    const text = `rules:\n  - ${[...lines, line].join("\n    ")}\n`;
    const e = ruleError(text);
    expect(e.rule).toBe("bad-rule");
    expect(e.field).toBe(field);
    expect(e.message).toMatch(new RegExp(`^test\\.yaml: rule "bad-rule": field ${field.replace(/\./g, "\\.")}: `));
    expect(e.message).toMatch(message);
  });

  it("names a rule without a name by its position, and catches duplicate names", () => {
    const e = ruleError("rules:\n  - name: a\n    severity: info\n    match: {outcome: open}\n  - severity: info\n");
    expect(e.message).toMatch(/rule "#2": field name: /);
    const dup = ruleError(
      "rules:\n  - {name: a, severity: info, match: {outcome: open}}\n  - {name: a, severity: info, match: {outcome: open}}\n",
    );
    expect(dup.message).toBe('test.yaml: rule "a": field name: duplicate rule name');
  });

  // Found by fuzzing: the yaml package resolves aliases in toJS() and throws a
  // plain ReferenceError there, which named neither the file nor YAML.
  it.each([
    ["an alias to no anchor", "rules: [ *x ]\n", /^test\.yaml: invalid YAML: Unresolved alias/],
    [
      "an exponential alias expansion",
      `a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n${Array.from({ length: 6 }, (_, i) => `a${i + 1}: &a${i + 1} [${Array(10).fill(`*a${i}`).join(", ")}]`).join("\n")}\nrules: *a6\n`,
      /^test\.yaml: invalid YAML: Excessive alias count/,
    ],
  ])("reports %s as invalid YAML of the file", (_what, text, message) => {
    const e = ruleError(text);
    expect(e.message).toMatch(message);
    expect(e.source).toBe("test.yaml");
  });

  it("rejects documents that are not a rules mapping", () => {
    expect(ruleError("").message).toMatch(/expected a mapping with a "rules" list \(got null\)/);
    expect(ruleError("rules: {}").message).toMatch(/"rules" must be a list \(got a mapping\)/);
    expect(ruleError("rules: []\nextra: 1").message).toMatch(/unknown top-level field "extra"/);
  });
});
