// The two human-facing shapes of an alert: one JSON object (webhook bodies,
// `alerts -o json`) and one text line (`alerts -o compact`), its severity in
// colour when the CLI says so (--color, src/cli/color.ts).
import { Severity, severityName, type Alert } from "../model/mod.js";
// The leaf module, not query/mod.ts: formatting an alert loads no server.
import { plain, type Painter, type Tone } from "../query/render-color.js";
import { escapeControl } from "../text/escape.js";
import { formatHumanTime, type HumanTimeOptions } from "../text/human-time.js";

/** An alert as JSON: snake_case like the proto, severity as a lowercase name. */
export interface AlertJson {
  alert_id: string;
  rule: string;
  severity: string;
  trace_id: string;
  explanation: string;
  /** ISO 8601, derived from time_us. */
  time: string;
  time_us: number;
  count: number;
  source_pod: string;
  destination: string;
}

export function alertToJson(alert: Alert): AlertJson {
  return {
    alert_id: alert.alertId,
    rule: alert.rule,
    severity: severityName(alert.severity).toLowerCase(),
    trace_id: alert.traceId,
    explanation: alert.explanation,
    time: isoTime(alert.timeUs),
    time_us: alert.timeUs,
    count: alert.count,
    source_pod: alert.sourcePod,
    destination: alert.destination,
  };
}

export interface AlertTextOptions extends HumanTimeOptions {
  /** Colours the severity (CRITICAL red, WARNING yellow; INFO stays plain). Default: no colour. */
  paint?: Painter;
}

/** The tone of a severity, as outcomes have theirs: INFO asks for no attention. */
export function severityTone(severity: Severity): Tone | undefined {
  if (severity === Severity.SEVERITY_CRITICAL) return "bad";
  if (severity === Severity.SEVERITY_WARNING) return "warn";
  return undefined;
}

/**
 * `2025-01-02 03:04:05.678901Z CRITICAL reset-from-sidecar ×3 tt-a → 10.88.0.3:8080 trace=… <explanation>`
 * (UTC unless `local`). One alert is one line: its pod and explanation carry
 * names from the network, escaped; the colour goes on after escaping (on the
 * severity's own name, not its padding), so its codes are the only ESC bytes.
 */
export function formatAlertText(alert: Alert, opts: AlertTextOptions = {}): string {
  const { paint = plain, ...time } = opts;
  const count = alert.count > 1 ? ` ×${alert.count}` : "";
  const name = severityName(alert.severity);
  const tone = severityTone(alert.severity);
  const severity = (tone ? paint(tone, name) : name) + " ".repeat(Math.max(0, 8 - name.length));
  const head = escapeControl(formatHumanTime(alert.timeUs, { ...time, date: true }));
  const rest = escapeControl(
    `${alert.rule}${count} ${alert.sourcePod || "-"} → ${alert.destination || "-"} trace=${alert.traceId || "-"} ${alert.explanation}`,
  );
  return `${head} ${severity} ${rest}`;
}

function isoTime(timeUs: number): string {
  const d = new Date(Math.floor(timeUs / 1_000));
  return Number.isNaN(d.getTime()) ? "-" : d.toISOString();
}
