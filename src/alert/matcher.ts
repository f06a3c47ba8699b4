// Compiles a rule's `match` into one predicate over trace facts, so the
// per-trace cost is a few comparisons and no re-parsing of globs.
import type { RuleMatch } from "./rule-schema.js";
import type { TraceFacts } from "./trace-facts.js";

export type TraceMatcher = (facts: TraceFacts) => boolean;

export function compileMatch(match: RuleMatch): TraceMatcher {
  const checks: TraceMatcher[] = [];
  if (match.outcomes) {
    const outcomes = new Set<number>(match.outcomes);
    checks.push((f) => outcomes.has(f.outcome));
  }
  if (match.resetOriginRole !== undefined) {
    const role = match.resetOriginRole;
    checks.push((f) => f.resetOriginRole === role);
  }
  if (match.pods) {
    const globs = match.pods.map(globToRegExp);
    checks.push((f) => f.pods.some((p) => globs.some((g) => g.test(p))));
  }
  if (match.ports) {
    const ports = new Set(match.ports);
    checks.push((f) => ports.has(f.destinationPort));
  }
  return (f) => checks.every((c) => c(f));
}

/** `*` is any run of characters, `?` one character; everything else is literal. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${body}$`);
}
