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
