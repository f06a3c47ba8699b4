// Short, stable names for enum values and endpoints, shared by every output
// (observe, traces, why, the HTTP API) so they never disagree.
import "./protobuf-runtime.js";
import { tcptrail } from "../gen/tcptrail.js";

const v1 = tcptrail.v1;

function shortNames(e: Record<string, number | string>, prefix: string): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(e)) {
    if (typeof v === "number") m.set(v, k.startsWith(prefix) ? k.slice(prefix.length) : k);
  }
  return m;
}

const kindNames = shortNames(v1.EventKind as never, "EVENT_KIND_");
const stateNames = shortNames(v1.TcpState as never, "TCP_STATE_");
const reasonNames = shortNames(v1.ResetReason as never, "RESET_REASON_");
const roleNames = shortNames(v1.Role as never, "ROLE_");
const legNames = shortNames(v1.SidecarLeg as never, "SIDECAR_LEG_");
const outcomeNames = shortNames(v1.Outcome as never, "OUTCOME_");
const severityNames = shortNames(v1.Severity as never, "SEVERITY_");

function lookup(m: Map<number, string>, v: number | null | undefined): string {
  return m.get(v ?? 0) ?? String(v);
}
function reverse(m: Map<number, string>, name: string): number | undefined {
  const n = name.toUpperCase().replace(/-/g, "_");
  for (const [k, v] of m) if (v === n) return k;
  return undefined;
}

export const kindName = (v: number | null | undefined): string => lookup(kindNames, v);
export const stateName = (v: number | null | undefined): string => lookup(stateNames, v);
export const reasonName = (v: number | null | undefined): string => lookup(reasonNames, v);
export const roleName = (v: number | null | undefined): string => lookup(roleNames, v);
export const legName = (v: number | null | undefined): string => lookup(legNames, v);
export const outcomeName = (v: number | null | undefined): string => lookup(outcomeNames, v);
export const severityName = (v: number | null | undefined): string => lookup(severityNames, v);

/** Parse a user-facing short name ("reset-sent", "RESET_SENT") back to its enum value. */
export const kindFromName = (s: string): number | undefined => reverse(kindNames, s);
export const roleFromName = (s: string): number | undefined => reverse(roleNames, s);
export const outcomeFromName = (s: string): number | undefined => reverse(outcomeNames, s);
export const severityFromName = (s: string): number | undefined => reverse(severityNames, s);

/** The kernel's sk_rst_reason value maps to ResetReason by adding one (0 is "none" in proto3). */
export const resetReasonFromKernel = (kernelReason: number): number =>
  kernelReason >= 0 && kernelReason <= 25 ? kernelReason + 1 : v1.ResetReason.RESET_REASON_ERROR;

/** "10.0.0.1:8080", "[::1]:80". */
export function formatEndpoint(ep: { ip?: string | null; port?: number | null } | null | undefined): string {
  if (!ep || !ep.ip) return "-";
  return ep.ip.includes(":") ? `[${ep.ip}]:${ep.port ?? 0}` : `${ep.ip}:${ep.port ?? 0}`;
}
