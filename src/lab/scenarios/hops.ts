// The hops of one call through the lab and how each side's segments look on
// its own wire. NAT is why this is not symmetric: REDIRECT rewrites the
// destination of what the caller sends, and conntrack rewrites the source of
// what the redirect listener answers back to the original destination.
import type { WireEndpoint } from "../ground-truth.js";
import { processOf } from "../lab.js";
import type { LabState, PodState } from "../state-file.js";
import type { ExpectedRole, ExpectedSegment, WireSelector } from "./types.js";

export interface HopSide {
  pod: PodState;
  role: ExpectedRole;
  label: string;
  pid?: number;
  /** How this side's segments look in its own netns capture. */
  wire: WireSelector;
}

export interface Hop {
  name: string;
  client: HopSide;
  server: HopSide;
}

export interface CallHops {
  /** In order from the calling process to the serving process. */
  hops: Hop[];
}

const PASSTHROUGH = "127.0.0.6";
const LOCALHOST = "127.0.0.1";

/**
 * The chain of a call from the app of `from` (client socket `local`) to `target` in pod `to`.
 * A meshed caller goes through its outbound listener; a meshed callee through its inbound listener.
 */
export function callHops(state: LabState, from: PodState, to: PodState, target: WireEndpoint, local: WireEndpoint): CallHops {
  const hops: Hop[] = [];
  const sidecarPid = (p: PodState): number | undefined =>
    state.processes.find((x) => x.pod === p.netns && x.role === "sidecar")?.pid;
  const appPid = (p: PodState): number => processOf(state, p, "app").pid;
  const short = (p: PodState): string => p.name;
  const app = (p: PodState, pid: number | undefined, wire: WireSelector): HopSide => ({
    pod: p,
    role: "app",
    label: `app-${short(p)}`,
    ...(pid !== undefined ? { pid } : {}),
    wire,
  });
  const sidecar = (p: PodState, wire: WireSelector): HopSide => {
    const pid = sidecarPid(p);
    return { pod: p, role: "sidecar", label: `sidecar-${short(p)}`, ...(pid !== undefined ? { pid } : {}), wire };
  };

  // The caller's own socket (pid filled in by the scenario via `withClientPid`).
  let callerSide: HopSide;
  if (from.meshed) {
    const outPort = state.mesh.outboundPort;
    hops.push({
      name: `app-${short(from)}→sidecar-${short(from)}`,
      client: app(from, undefined, { iface: "lo", src: local, dst: { ip: LOCALHOST, port: outPort } }),
      server: sidecar(from, { iface: "lo", src: target, dst: local }),
    });
    callerSide = sidecar(from, { iface: "eth0", src: { ip: from.ip }, dst: target });
  } else {
    callerSide = app(from, undefined, { iface: "eth0", src: local, dst: target });
  }
  const callerDst: Partial<WireEndpoint> = from.meshed ? { ip: from.ip } : local;
  if (to.meshed) {
    hops.push({
      name: `${callerSide.label}→sidecar-${short(to)}`,
      client: callerSide,
      server: sidecar(to, { iface: "eth0", src: target, dst: callerDst }),
    });
    hops.push({
      name: `sidecar-${short(to)}→app-${short(to)}`,
      client: sidecar(to, { iface: "lo", src: { ip: PASSTHROUGH }, dst: target }),
      server: app(to, appPid(to), { iface: "lo", src: target, dst: { ip: PASSTHROUGH } }),
    });
  } else {
    hops.push({
      name: `${callerSide.label}→app-${short(to)}`,
      client: callerSide,
      server: app(to, appPid(to), { iface: "eth0", src: target, dst: callerDst }),
    });
  }
  return { hops };
}

/** The caller's client socket belongs to the client process. */
export function withClientPid(c: CallHops, pid: number): CallHops {
  const [first] = c.hops;
  if (first && first.client.role === "app") first.client = { ...first.client, pid };
  return c;
}

/** The expected segment `side` of `hop` sends. */
export function expect(hop: Hop, side: "client" | "server", flag: "FIN" | "RST", words: string): ExpectedSegment {
  const s = hop[side];
  const peer = side === "client" ? hop.server : hop.client;
  return {
    flag,
    fromPod: s.pod.netns,
    role: s.role,
    hop: `${s.label}→${peer.label}`,
    ...(s.pid !== undefined ? { pid: s.pid } : {}),
    wire: s.wire,
    words,
  };
}
