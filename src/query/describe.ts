// Short human names for endpoints, shared by the table and why renderers.
import type { EndpointJson } from "./trace-json.js";

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
