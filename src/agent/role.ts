// Who a socket belongs to in the mesh, from facts the kernel gives even in
// softirq: the socket's owner UID and its own local address; and, once its
// owner process is known, whether that process runs in the sidecar's
// container (istio-proxy), for a proxy that does not run as the sidecar UID.
import { Role, SidecarLeg, type Endpoint } from "../model/mod.js";

/** istio-proxy's UID: the sidecar's sockets, and the threads whose reads and sends the probe links. */
export const DEFAULT_SIDECAR_UID = 1337;

export interface MeshRoleOptions {
  /** UID the sidecar runs as (istio-proxy). Default DEFAULT_SIDECAR_UID (1337). */
  sidecarUid?: number;
  /** Outbound redirect listener port (istio-iptables -p). Default 15001. */
  outboundPort?: number;
  /** Inbound redirect listener port (istio-iptables -z). Default 15006. */
  inboundPort?: number;
  /** Source address the sidecar uses to reach the local app. Default 127.0.0.6. */
  passthroughIp?: string;
}

export interface MeshRole {
  readonly role: Role;
  readonly leg: SidecarLeg;
}

const TCP_LISTEN = 10;

// Every socket of a role shares one frozen answer: classify runs for each
// socket (and again as its tuple completes) on the agent's hot path.
const role = (r: Role, leg: SidecarLeg): MeshRole => Object.freeze({ role: r, leg });
const OUTBOUND_LISTENER = role(Role.ROLE_SIDECAR, SidecarLeg.SIDECAR_LEG_OUTBOUND_LISTENER);
const INBOUND_LISTENER = role(Role.ROLE_SIDECAR, SidecarLeg.SIDECAR_LEG_INBOUND_LISTENER);
const INBOUND_PASSTHROUGH = role(Role.ROLE_SIDECAR, SidecarLeg.SIDECAR_LEG_INBOUND_PASSTHROUGH);
const SIDECAR_OTHER = role(Role.ROLE_SIDECAR, SidecarLeg.SIDECAR_LEG_OTHER);
const SIDECAR_UPSTREAM = role(Role.ROLE_SIDECAR, SidecarLeg.SIDECAR_LEG_UPSTREAM);
const APP = role(Role.ROLE_APP, SidecarLeg.SIDECAR_LEG_UNSPECIFIED);

export class MeshRoleClassifier {
  readonly sidecarUid: number;
  readonly outboundPort: number;
  readonly inboundPort: number;
  readonly passthroughIp: string;

  constructor(o: MeshRoleOptions = {}) {
    this.sidecarUid = o.sidecarUid ?? DEFAULT_SIDECAR_UID;
    this.outboundPort = o.outboundPort ?? 15001;
    this.inboundPort = o.inboundPort ?? 15006;
    this.passthroughIp = o.passthroughIp ?? "127.0.0.6";
  }

  /**
   * The role of a socket. `sidecarProcess`: its owner runs in a container
   * named as the sidecar (the CRI's word), which makes it the sidecar's as
   * the UID does (OpenShift's random UIDs, an overridden proxyUID).
   */
  classify(uid: number, local: Endpoint | null | undefined, state: number, sidecarProcess = false): MeshRole {
    const port = local?.port ?? 0;
    // The redirect listeners and the passthrough source are the sidecar's by
    // construction, whatever UID it was (mis)configured to run as.
    if (state !== TCP_LISTEN) {
      if (port === this.outboundPort) return OUTBOUND_LISTENER;
      if (port === this.inboundPort) return INBOUND_LISTENER;
    }
    if (local?.ip === this.passthroughIp) return INBOUND_PASSTHROUGH;
    if (uid === this.sidecarUid || sidecarProcess) {
      // A dialed socket has an ephemeral local port; listeners and accepted admin sockets are "other".
      return state === TCP_LISTEN || state === 0 ? SIDECAR_OTHER : SIDECAR_UPSTREAM;
    }
    return APP;
  }
}
