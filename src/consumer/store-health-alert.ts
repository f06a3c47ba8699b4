// The alerts a change of store health raises, on the same sinks as the
// trace rules' (tcptrail.v1.alerts.<severity>, the webhook): an operator who
// watches alerts learns that traces stopped being stored without scraping
// /metrics. Not a rule: it is about tcptrail itself, not about a trace.
import { Severity, v1, type Alert } from "../model/mod.js";
import type { StoreHealthChange } from "./store-health.js";

export const STORE_DEGRADED_RULE = "store-degraded";
export const STORE_RECOVERED_RULE = "store-recovered";

export function storeHealthAlert(change: StoreHealthChange, node: string, nowMs = Date.now()): Alert {
  const { state } = change;
  const degraded = state.status === "degraded";
  const explanation = degraded
    ? `the trace store on ${node} cannot write (${state.kind}): ${state.reason}. Events stay unacked in JetStream and are stored once writes succeed again; until then no new trace is queryable`
    : `the trace store on ${node} writes again after ${change.failures ?? 0} failed writes; the events held back are being stored`;
  return v1.Alert.create({
    alertId: `${degraded ? STORE_DEGRADED_RULE : STORE_RECOVERED_RULE}:${node}:${nowMs}`,
    rule: degraded ? STORE_DEGRADED_RULE : STORE_RECOVERED_RULE,
    severity: degraded ? Severity.SEVERITY_CRITICAL : Severity.SEVERITY_INFO,
    traceId: "",
    explanation,
    timeUs: nowMs * 1000,
    count: 1,
    sourcePod: "",
    destination: "",
  });
}
