// `observe` filters: parsed once from flags, then applied to every event.
// Flags of the same kind are ORed (--pod a --pod b), different flags are ANDed.
import { isIP } from "node:net";
import { kindFromName, roleFromName, v1, type ConnEvent } from "../model/mod.js";
import { InvalidFilterError } from "./errors.js";

export interface EventFilter {
  nodes: ReadonlySet<string>;
  pods: ReadonlySet<string>;
  /** Matches local, remote or target address. */
  ips: ReadonlySet<string>;
  /** Matches local, remote or target port. */
  ports: ReadonlySet<number>;
  roles: ReadonlySet<number>;
  kinds: ReadonlySet<number>;
}

/** Flag values as the CLI collects them; all optional. */
export interface FilterFlags {
  node?: string[];
  pod?: string[];
  ip?: string[];
  port?: string[];
  role?: string[];
  kind?: string[];
}

const KIND_HINT = Object.keys(v1.EventKind)
  .filter((k) => k !== "EVENT_KIND_UNSPECIFIED")
  .map((k) => k.slice("EVENT_KIND_".length).toLowerCase().replace(/_/g, "-"))
  .join(", ");

/** @throws InvalidFilterError */
export function buildFilter(flags: FilterFlags): EventFilter {
  const ips = new Set<string>();
  for (const ip of flags.ip ?? []) {
    if (isIP(ip) === 0) throw InvalidFilterError.invalid("--ip", ip, "expected an IPv4 or IPv6 address");
    ips.add(ip);
  }
  const ports = new Set<number>();
  for (const p of flags.port ?? []) {
    const n = Number(p);
    if (!/^\d+$/.test(p) || n < 1 || n > 65535) throw InvalidFilterError.invalid("--port", p, "expected 1-65535");
    ports.add(n);
  }
  const roles = new Set<number>();
  for (const r of flags.role ?? []) {
    const v = roleFromName(r);
    if (v === undefined || v === 0) throw InvalidFilterError.invalid("--role", r, "expected app or sidecar");
    roles.add(v);
  }
  const kinds = new Set<number>();
  for (const k of flags.kind ?? []) {
    const v = kindFromName(k);
    if (v === undefined || v === 0) throw InvalidFilterError.invalid("--kind", k, `expected one of ${KIND_HINT}`);
    kinds.add(v);
  }
  return { nodes: new Set(flags.node ?? []), pods: new Set(flags.pod ?? []), ips, ports, roles, kinds };
}

export const isEmptyFilter = (f: EventFilter): boolean =>
  f.nodes.size + f.pods.size + f.ips.size + f.ports.size + f.roles.size + f.kinds.size === 0;

export function matchEvent(f: EventFilter, node: string, ev: ConnEvent): boolean {
  if (f.nodes.size > 0 && !f.nodes.has(node)) return false;
  if (f.kinds.size > 0 && !f.kinds.has(ev.kind)) return false;
  if (f.roles.size > 0 && !f.roles.has(ev.role)) return false;
  if (f.pods.size > 0 && !f.pods.has(ev.pod)) return false;
  if (f.ips.size > 0) {
    const { local, remote, target } = ev;
    if (!(f.ips.has(local?.ip ?? "") || f.ips.has(remote?.ip ?? "") || f.ips.has(target?.ip ?? ""))) return false;
  }
  if (f.ports.size > 0) {
    const { local, remote, target } = ev;
    if (!(f.ports.has(local?.port ?? 0) || f.ports.has(remote?.port ?? 0) || f.ports.has(target?.port ?? 0)))
      return false;
  }
  return true;
}
