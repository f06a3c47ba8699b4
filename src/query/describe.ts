// Short human names for endpoints, shared by the table and why renderers.
import type { EndpointJson, HopJson } from "./trace-json.js";

/** "10.88.0.2:40112", "[::1]:80", "-" */
export function addr(ep: Pick<EndpointJson, "ip" | "port">): string {
  if (!ep.ip) return "-";
  return ep.ip.includes(":") ? `[${ep.ip}]:${ep.port ?? 0}` : `${ep.ip}:${ep.port ?? 0}`;
}

/** "node(812)", "haproxy", "" */
export function proc(ep: EndpointJson): string {
  if (ep.comm && ep.pid) return `${ep.comm}(${ep.pid})`;
  return ep.comm ?? (ep.pid ? `pid ${ep.pid}` : "");
}

/** "app tt-a node(812)": who, without the address. */
export function who(ep: EndpointJson): string {
  const role = ep.role ? ep.role.toLowerCase() : ep.socket_id ? "" : "untraced";
  return [role, ep.pod ?? "", proc(ep)].filter(Boolean).join(" ") || "?";
}

/**
 * Who a trace's reset origin is: its name, and for a sender on the network
 * path (role NETWORK: no process to name) the address the RST came from.
 * "sidecar tt-b haproxy(700)", "network tt-b 10.88.0.3:9091", "network 203.0.113.7:443".
 */
export function originName(ep: EndpointJson): string {
  return ep.role === "NETWORK" ? `${who(ep)} ${addr(ep)}` : who(ep);
}

/**
 * Which of its proxy's connect attempts a hop is, for a hop that is one of
 * several: "attempt 2 of 3"; "attempt 2" when the total was not recorded;
 * "" for a hop that was not retried (or the first one of an unknown total).
 */
export function attemptOf(h: Pick<HopJson, "attempt" | "attempts">): string {
  if (h.attempts === null) return h.attempt > 1 ? `attempt ${h.attempt}` : "";
  return h.attempts > 1 ? `attempt ${h.attempt} of ${h.attempts}` : "";
}

/** "hop 3 (attempt 2 of 3)", "hop 3": the one way every human output names a hop. */
export function hopName(h: Pick<HopJson, "index" | "attempt" | "attempts">): string {
  const a = attemptOf(h);
  return a ? `hop ${h.index} (${a})` : `hop ${h.index}`;
}

/**
 * A proxy's connect attempt that a later one replaced: it ended on its own
 * (refused, reset before connecting), so it neither began the trace's failure
 * nor relayed it. Unknown totals count as not replaced.
 */
export function isReplacedAttempt(h: Pick<HopJson, "attempt" | "attempts">): boolean {
  return h.attempts !== null && h.attempt < h.attempts;
}
