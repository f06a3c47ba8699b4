// The two human-facing shapes of an alert: one JSON object (webhook bodies,
// `alerts -o json`) and one text line (`alerts -o text`).
import { severityName, type Alert } from "../model/mod.js";
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

/**
 * `2025-01-02 03:04:05.678901Z CRITICAL reset-from-sidecar ×3 tt-a → 10.88.0.3:8080 trace=… <explanation>`
 * (UTC unless `local`). One alert is one line: its pod and explanation carry
 * names from the network, escaped.
 */
export function formatAlertText(alert: Alert, opts: HumanTimeOptions = {}): string {
  const count = alert.count > 1 ? ` ×${alert.count}` : "";
  return escapeControl(
    `${formatHumanTime(alert.timeUs, { ...opts, date: true })} ${severityName(alert.severity).padEnd(8)} ${alert.rule}${count} ` +
      `${alert.sourcePod || "-"} → ${alert.destination || "-"} trace=${alert.traceId || "-"} ${alert.explanation}`,
  );
}

function isoTime(timeUs: number): string {
  const d = new Date(Math.floor(timeUs / 1_000));
  return Number.isNaN(d.getTime()) ? "-" : d.toISOString();
}
