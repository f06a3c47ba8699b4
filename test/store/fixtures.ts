// Traces and events shaped like docs/EVENTS.md's "one request through two
// sidecars", parameterised so many distinct ones can be stored.
import { v1, EventKind, Outcome, ResetReason, Role, SidecarLeg, TcpState, type ConnEventInit, type Trace } from "../../src/model/mod.js";

export const NODE = "n1";
export const A = "10.88.0.2";
export const B = "10.88.0.3";

export interface MeshTraceOpts {
  id: string;
  startUs: number;
  /** Makes ports and sockets distinct per trace. */
  k?: number;
  outcome?: Outcome;
  podA?: string;
  podB?: string;
  /** Role of the endpoint where the failure began. */
  originRole?: Role;
}

export const sockOf = (k: number, n: number): string => (0xffff0000 + k * 16 + n).toString(16);
// Birth is a monotonic-clock ns value: keep it well inside 2^53 whatever startUs is.
export const socketIdOf = (k: number, n: number, startUs: number): string => `${NODE}/${sockOf(k, n)}/${(startUs % 1e12) * 1000 + n}`;

export function meshTrace(o: MeshTraceOpts): Trace {
  const k = o.k ?? 0;
  const podA = o.podA ?? "tt-a";
  const podB = o.podB ?? "tt-b";
  const t = o.startUs;
  const sid = (n: number) => socketIdOf(k, n, t);
  const appB = { ip: B, port: 8080, pod: podB, netns: 4026532902, role: Role.ROLE_APP, pid: 901, comm: "node", uid: 0, node: NODE, socketId: sid(6) };
  const sidecarB = { ip: B, port: 15006, pod: podB, netns: 4026532902, role: Role.ROLE_SIDECAR, leg: SidecarLeg.SIDECAR_LEG_INBOUND_LISTENER, pid: 700, comm: "haproxy", uid: 1337, node: NODE, socketId: sid(4) };
  const origin = o.originRole === Role.ROLE_SIDECAR ? sidecarB : appB;
  return v1.Trace.create({
    traceId: o.id,
    outcome: o.outcome ?? Outcome.OUTCOME_RESET_BY_SERVER,
    startUs: t,
    endUs: t + 12_400,
    resetOrigin: origin,
    resetOriginHop: 3,
    explanation: `app ${podB} (pid 901) reset the connection`,
    hops: [
      {
        index: 1,
        client: { ip: A, port: 40000 + k, pod: podA, netns: 4026532801, role: Role.ROLE_APP, pid: 812, comm: "node", uid: 0, node: NODE, socketId: sid(1) },
        server: { ip: "127.0.0.1", port: 15001, pod: podA, netns: 4026532801, role: Role.ROLE_SIDECAR, leg: SidecarLeg.SIDECAR_LEG_OUTBOUND_LISTENER, pid: 600, comm: "haproxy", uid: 1337, node: NODE, socketId: sid(2) },
        originalDestination: { ip: B, port: 8080 },
        openedBy: "client",
        firstFinBy: "server",
        outcome: Outcome.OUTCOME_COMPLETED,
        startUs: t,
        endUs: t + 12_400,
      },
      {
        index: 2,
        client: { ip: A, port: 50000 + k, pod: podA, netns: 4026532801, role: Role.ROLE_SIDECAR, leg: SidecarLeg.SIDECAR_LEG_UPSTREAM, pid: 600, comm: "haproxy", uid: 1337, node: NODE, socketId: sid(3) },
        server: sidecarB,
        originalDestination: { ip: B, port: 8080 },
        openedBy: "client",
        firstFinBy: "server",
        outcome: Outcome.OUTCOME_COMPLETED,
        link: "proxy",
        startUs: t + 100,
        endUs: t + 12_300,
      },
      {
        index: 3,
        client: { ip: "127.0.0.6", port: 30000 + k, pod: podB, netns: 4026532902, role: Role.ROLE_SIDECAR, leg: SidecarLeg.SIDECAR_LEG_INBOUND_PASSTHROUGH, pid: 700, comm: "haproxy", uid: 1337, node: NODE, socketId: sid(5) },
        server: appB,
        openedBy: "client",
        resetBy: "server",
        resetReason: ResetReason.RESET_REASON_TCP_ABORT_ON_CLOSE,
        outcome: o.outcome ?? Outcome.OUTCOME_RESET_BY_SERVER,
        link: "proxy",
        startUs: t + 200,
        endUs: t + 12_000,
      },
    ],
  });
}

let seq = 0;
/** A fresh seq for event builders (1-based, unique within a test file). */
export const nextSeq = (): number => ++seq;

interface SocketEventAt {
  sock: string;
  tNs: number;
  local: [string, number];
  remote: [string, number];
}

/** What every event builder here shares: a fresh seq, the kernel time in both clocks, an IPv4 socket and its tuple. */
function socketEventBase(o: SocketEventAt): Omit<ConnEventInit, "kind"> {
  return {
    seq: nextSeq(),
    tsNs: BigInt(o.tNs),
    timeUs: Math.floor(o.tNs / 1000),
    sock: o.sock,
    family: 4,
    local: { ip: o.local[0], port: o.local[1] },
    remote: { ip: o.remote[0], port: o.remote[1] },
  };
}

export function stateEvent(o: {
  sock: string;
  tNs: number;
  local: [string, number];
  remote: [string, number];
  from: TcpState;
  to: TcpState;
  pod?: string;
}): ConnEventInit {
  return {
    ...socketEventBase(o),
    kind: EventKind.EVENT_KIND_STATE_CHANGE,
    pod: o.pod ?? "",
    oldState: o.from,
    newState: o.to,
  };
}

export function resetSent(o: { sock: string; tNs: number; local: [string, number]; remote: [string, number]; reason: ResetReason }): ConnEventInit {
  return { ...socketEventBase(o), kind: EventKind.EVENT_KIND_RESET_SENT, resetReason: o.reason };
}
