// Loading alert rules: the built-in defaults, or a YAML file written in the
// same shape as deploy/alert-rules.yaml (which documents every field).
import { readFile } from "node:fs/promises";
import { parseDocument } from "yaml";
import { AlertRuleError } from "./errors.js";
import { validateRuleSet, type AlertRule } from "./rule-schema.js";

const BUILT_IN = "built-in defaults";

// Kept in the YAML's own snake_case form so the defaults go through the same
// validation as a user's file; deploy/alert-rules.yaml spells out the same rules.
const DEFAULT_RULES_DOC = {
  rules: [
    {
      name: "reset-from-sidecar",
      severity: "critical",
      summary: "reset began in a sidecar",
      match: { outcome: ["reset-by-client", "reset-by-server"], reset_origin_role: "sidecar" },
      dedupe: { key: ["rule", "source_pod", "destination"], window: "5m" },
      rate_limit: { max: 1, per: "1m" },
    },
    {
      name: "sidecar-exit",
      severity: "critical",
      summary: "sidecar exited with the connection open",
      match: { outcome: ["process-exit"], reset_origin_role: "sidecar" },
      dedupe: { key: ["rule", "source_pod", "destination"], window: "5m" },
      rate_limit: { max: 1, per: "1m" },
    },
    {
      name: "reset-untraced",
      severity: "warning",
      summary: "RST from the network path, sent by no traced socket",
      match: { outcome: ["reset-untraced"] },
      dedupe: { key: ["rule", "source_pod", "destination"], window: "5m" },
      rate_limit: { max: 1, per: "1m" },
    },
    {
      name: "refused",
      severity: "warning",
      summary: "connection refused",
      match: { outcome: ["refused"] },
      dedupe: { key: ["rule", "source_pod", "destination"], window: "5m" },
      rate_limit: { max: 1, per: "1m" },
    },
    {
      // The keep-alive race on a pooled upstream (istio/istio#36489): the
      // summary carries the fix, since the explanation names only who did what.
      name: "upstream-idle-close-race",
      severity: "warning",
      summary:
        "keep-alive race on a pooled upstream connection; the upstream's keep-alive (idle) timeout must be longer than the sidecar's idle timeout for pooled connections (Envoy: common_http_protocol_options.idle_timeout; or retry on reset)",
      match: { outcome: ["upstream-idle-close-race"] },
      dedupe: { key: ["rule", "source_pod", "destination"], window: "5m" },
      rate_limit: { max: 1, per: "1m" },
    },
    {
      name: "reset-rate",
      severity: "warning",
      summary: "reset rate above threshold",
      match: { outcome: ["reset-by-client", "reset-by-server", "reset-untraced"] },
      rate: { threshold: 20, window: "60s", key: ["source_pod", "destination"] },
      dedupe: { key: ["rule", "source_pod", "destination"], window: "5m" },
      rate_limit: { max: 1, per: "1m" },
    },
  ],
};

/** The default rules: sidecar resets and exits, untraced resets, refusals, the keep-alive race and a reset rate. */
export function defaultAlertRules(): AlertRule[] {
  return validateRuleSet(DEFAULT_RULES_DOC, BUILT_IN);
}

/** Parses and validates rules from YAML text; `source` names it in errors. */
export function parseAlertRules(text: string, source: string): AlertRule[] {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const pos = first.linePos?.[0];
    const at = pos ? ` at line ${pos.line}, column ${pos.col}` : "";
    // prettyErrors appends the position and a source excerpt; the position is reported once, above.
    const what = (first.message.split("\n")[0] ?? first.message).replace(/ at line \d+, column \d+:?$/, "");
    throw new AlertRuleError(`invalid YAML${at}: ${what}`, { source, cause: first });
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (e) {
    // Aliases are resolved only here, and the yaml package throws a plain
    // ReferenceError for one that names no anchor or expands too far (a
    // "billion laughs" file): still a broken file, to be reported as one.
    throw new AlertRuleError(`invalid YAML: ${(e as Error).message}`, { source, cause: e });
  }
  return validateRuleSet(value, source);
}

/**
 * The rules in the YAML file at `path`, or the built-in defaults when no path
 * is given. A path that cannot be read is an error, not a silent fallback.
 */
export async function loadAlertRules(path?: string): Promise<AlertRule[]> {
  if (path === undefined) return defaultAlertRules();
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message;
    throw new AlertRuleError(`cannot read rules: ${reason}`, { source: path, cause: e });
  }
  return parseAlertRules(text, path);
}
