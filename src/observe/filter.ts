// `observe` filters: parsed once from flags, then applied to every event.
// They combine as hubble's: the same flag repeated is an OR (--pod a --pod b),
// different flags are an AND. `--not` puts the one filter flag after it in
// the exclude group instead, which combines the same way; an event is shown
// when it matches the include group and does not match the exclude group
// (hubble's blacklist: `--not --pod a --not --kind reset-sent` hides pod a's
// resets, not everything of pod a and every reset).
//
// The ends of an event: its local end is its socket (the pod of the socket's
// netns, `pod` in every output), its remote end is the peer address the
// socket has, in the pod that address belongs to (./pod-addresses.ts). So
// --from-pod matches the event's own pod, --to-pod the pod at its remote
// address, and --pod either one.
import { isIP } from "node:net";
import { kindFromName, roleFromName, v1, type ConnEvent } from "../model/mod.js";
import { InvalidFilterError } from "./errors.js";
import { TCP_FLAGS, isTcpFlag, tcpFlagOf, type TcpFlag } from "./tcp-flags.js";
import { labelsMatch, parseLabelSelector, type LabelSelector } from "./label-filter.js";

/** One group of filters: every non-empty set must match. */
export interface FilterGroup {
  nodes: ReadonlySet<string>;
  /** Either end's pod. */
  pods: ReadonlySet<string>;
  /** The local end's pod (the event's `pod`). */
  fromPods: ReadonlySet<string>;
  /** The remote end's pod. */
  toPods: ReadonlySet<string>;
  /** Matches local, remote or target address. */
  ips: ReadonlySet<string>;
  /** Matches local, remote or target port. */
  ports: ReadonlySet<number>;
  roles: ReadonlySet<number>;
  kinds: ReadonlySet<number>;
  /** The event's TCP flag (./tcp-flags.ts). */
  tcpFlags: ReadonlySet<TcpFlag>;
  /** Label pairs the event's own pod must all carry (./label-filter.ts: repeated is AND). */
  labels: LabelSelector;
}

/** What observe shows: the include group, minus what matches the exclude group (from --not). */
export interface EventFilter extends FilterGroup {
  exclude?: FilterGroup;
}

/** Flag values as the CLI collects them; all optional. */
export interface FilterFlags {
  node?: string[];
  pod?: string[];
  fromPod?: string[];
  toPod?: string[];
  ip?: string[];
  port?: string[];
  role?: string[];
  kind?: string[];
  /** Each value one flag or a comma-separated list ("SYN,RST"), any case. */
  tcpFlags?: string[];
  /** key=value, each value one pair or a comma-separated list. */
  label?: string[];
}

/** The include flags, and the flags that followed a --not. */
export interface FilterFlagsWithNot extends FilterFlags {
  not?: FilterFlags;
}

/** The pod at an event's remote end, when known. */
export type RemotePodOf = (ev: ConnEvent) => string | undefined;

const KIND_HINT = Object.keys(v1.EventKind)
  .filter((k) => k !== "EVENT_KIND_UNSPECIFIED")
  .map((k) => k.slice("EVENT_KIND_".length).toLowerCase().replace(/_/g, "-"))
  .join(", ");

/** @throws InvalidFilterError */
function buildGroup(flags: FilterFlags): FilterGroup {
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
  const tcpFlags = new Set<TcpFlag>();
  for (const value of flags.tcpFlags ?? []) {
    for (const part of value.split(",")) {
      const flag = part.trim().toUpperCase();
      if (!isTcpFlag(flag)) throw InvalidFilterError.invalid("--tcp-flags", value, `expected one or more of ${TCP_FLAGS.join(",")}`);
      tcpFlags.add(flag);
    }
  }
  return {
    nodes: new Set(flags.node ?? []),
    pods: new Set(flags.pod ?? []),
    fromPods: new Set(flags.fromPod ?? []),
    toPods: new Set(flags.toPod ?? []),
    ips,
    ports,
    roles,
    kinds,
    tcpFlags,
    labels: parseLabelSelector(flags.label),
  };
}

/** @throws InvalidFilterError */
export function buildFilter(flags: FilterFlagsWithNot): EventFilter {
  const { not, ...include } = flags;
  const filter: EventFilter = buildGroup(include);
  if (not) {
    const exclude = buildGroup(not);
    if (!isEmptyGroup(exclude)) filter.exclude = exclude;
  }
  return filter;
}

const isEmptyGroup = (g: FilterGroup): boolean =>
  g.nodes.size + g.pods.size + g.fromPods.size + g.toPods.size + g.ips.size + g.ports.size + g.roles.size + g.kinds.size + g.tcpFlags.size + g.labels.length ===
  0;

export const isEmptyFilter = (f: EventFilter): boolean => isEmptyGroup(f) && (f.exclude === undefined || isEmptyGroup(f.exclude));

const anyOf = <T>(set: ReadonlySet<T>, ...values: T[]): boolean => values.some((v) => set.has(v));

function matchGroup(g: FilterGroup, node: string, ev: ConnEvent, remotePodOf: RemotePodOf | undefined): boolean {
  if (g.nodes.size > 0 && !g.nodes.has(node)) return false;
  if (g.kinds.size > 0 && !g.kinds.has(ev.kind)) return false;
  if (g.roles.size > 0 && !g.roles.has(ev.role)) return false;
  if (g.tcpFlags.size > 0) {
    const flag = tcpFlagOf(ev);
    if (flag === undefined || !g.tcpFlags.has(flag)) return false;
  }
  if (g.fromPods.size > 0 && !g.fromPods.has(ev.pod)) return false;
  if (!labelsMatch(g.labels, ev.podLabels)) return false;
  if (g.toPods.size > 0 || g.pods.size > 0) {
    const remotePod = remotePodOf?.(ev);
    if (g.toPods.size > 0 && (remotePod === undefined || !g.toPods.has(remotePod))) return false;
    if (g.pods.size > 0 && !(g.pods.has(ev.pod) || (remotePod !== undefined && g.pods.has(remotePod)))) return false;
  }
  const { local, remote, target } = ev;
  if (g.ips.size > 0 && !anyOf(g.ips, local?.ip ?? "", remote?.ip ?? "", target?.ip ?? "")) return false;
  if (g.ports.size > 0 && !anyOf(g.ports, local?.port ?? 0, remote?.port ?? 0, target?.port ?? 0)) return false;
  return true;
}

/**
 * Whether observe shows the event. `remotePodOf` names the pod at the remote
 * end (observe's PodAddresses); without it --to-pod matches nothing and --pod
 * only the local end.
 */
export function matchEvent(f: EventFilter, node: string, ev: ConnEvent, remotePodOf?: RemotePodOf): boolean {
  if (!matchGroup(f, node, ev, remotePodOf)) return false;
  return f.exclude === undefined || !matchGroup(f.exclude, node, ev, remotePodOf);
}
