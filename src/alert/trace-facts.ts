// What an alert reads from a finished trace: who started the logical
// connection, where it meant to go, where the failure began. Traces come from
// the stitcher or straight off the wire, so every field may be absent.
import { formatEndpoint, outcomeName, type TraceInit } from "../model/mod.js";
import type { KeyField } from "./rule-schema.js";

export interface TraceFacts {
  readonly traceId: string;
  readonly outcome: number;
  /** The first hop's client pod: the pod that opened the logical connection. */
  readonly sourcePod: string;
  /** "ip:port" the first hop meant to reach: its original destination, else its server. */
  readonly destination: string;
  readonly destinationPort: number;
  /**
   * Where the failure began: a socket's pod and role, or for a RST no traced
   * socket sent, the pod whose address sent it ("" when unknown) and ROLE_NETWORK.
   */
  readonly resetOriginPod: string;
  readonly resetOriginRole: number;
  /** Every pod any hop touched, client or server side. */
  readonly pods: readonly string[];
  readonly explanation: string;
}

export function traceFacts(trace: TraceInit): TraceFacts {
  const hops = trace.hops ?? [];
  // Hops arrive in chain order, but `index` is authoritative when present.
  let first = hops[0];
  for (const h of hops) if (first && (h.index ?? 0) < (first.index ?? 0)) first = h;
  const od = first?.originalDestination;
  const dest = od?.ip ? od : first?.server;
  const pods = new Set<string>();
  for (const h of hops) {
    if (h.client?.pod) pods.add(h.client.pod);
    if (h.server?.pod) pods.add(h.server.pod);
  }
  return {
    traceId: trace.traceId ?? "",
    outcome: trace.outcome ?? 0,
    sourcePod: first?.client?.pod ?? "",
    destination: dest?.ip ? formatEndpoint(dest) : "",
    destinationPort: dest?.ip ? (dest.port ?? 0) : 0,
    resetOriginPod: trace.resetOrigin?.pod ?? "",
    resetOriginRole: trace.resetOrigin?.role ?? 0,
    pods: [...pods],
    explanation: (trace.explanation ?? "").trim(),
  };
}

/** A stable string key over the chosen facts (fields joined by a separator no pod name contains). */
export function factsKey(facts: TraceFacts, fields: readonly KeyField[], rule: string): string {
  return fields.map((f) => keyPart(facts, f, rule)).join("\u001f");
}

function keyPart(facts: TraceFacts, field: KeyField, rule: string): string {
  switch (field) {
    case "rule":
      return rule;
    case "source_pod":
      return facts.sourcePod;
    case "destination":
      return facts.destination;
    case "reset_origin_pod":
      return facts.resetOriginPod;
    case "outcome":
      return outcomeName(facts.outcome);
    case "trace_id":
      return facts.traceId;
  }
}
