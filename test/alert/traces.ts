// Hand-built traces shaped like the stitcher's: app tt-a → sidecar tt-a →
// sidecar tt-b → app tt-b (pods 10.88.0.2 and 10.88.0.3), ending as asked.
import { Outcome, Role, SidecarLeg, v1, type HopEndpoint, type Trace } from "../../src/model/mod.js";

let seq = 0;

export interface TraceSpec {
  outcome: Outcome;
  traceId?: string;
  sourcePod?: string;
  destIp?: string;
  destPort?: number;
  resetOrigin?: HopEndpoint;
  explanation?: string;
}

export const sidecarB: HopEndpoint = {
  ip: "10.88.0.3",
  port: 15006,
  pod: "tt-b",
  role: Role.ROLE_SIDECAR,
  leg: SidecarLeg.SIDECAR_LEG_INBOUND_LISTENER,
  pid: 77,
  comm: "haproxy",
  uid: 1337,
};

export const appB: HopEndpoint = { ip: "10.88.0.3", port: 8080, pod: "tt-b", role: Role.ROLE_APP, pid: 90, comm: "python3" };

export function trace(spec: TraceSpec): Trace {
  const src = spec.sourcePod ?? "tt-a";
  const ip = spec.destIp ?? "10.88.0.3";
  const port = spec.destPort ?? 8080;
  return v1.Trace.create({
    traceId: spec.traceId ?? `t-${++seq}`,
    outcome: spec.outcome,
    hops: [
      {
        index: 1,
        client: { ip: "10.88.0.2", port: 40000, pod: src, role: Role.ROLE_APP, pid: 10, comm: "curl" },
        server: { ip: "127.0.0.1", port: 15001, pod: src, role: Role.ROLE_SIDECAR, leg: SidecarLeg.SIDECAR_LEG_OUTBOUND_LISTENER },
        originalDestination: { ip, port },
        link: "",
      },
      {
        index: 2,
        client: { ip: "10.88.0.2", port: 40001, pod: src, role: Role.ROLE_SIDECAR, leg: SidecarLeg.SIDECAR_LEG_UPSTREAM },
        server: { ...sidecarB, ip, port: 15006 },
        originalDestination: { ip, port },
        link: "proxy",
      },
    ],
    // Hops are numbered from 1 (Hop.index); the origin is sidecar b's end of hop 2.
    ...(spec.resetOrigin ? { resetOrigin: spec.resetOrigin, resetOriginHop: 2 } : {}),
    explanation: spec.explanation ?? "",
  });
}
