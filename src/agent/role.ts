// Who a socket belongs to in the mesh, from facts the kernel gives even in
// softirq: the socket's owner UID and its own local address.
import { Role, SidecarLeg, type Endpoint } from "../model/mod.js";

export interface MeshRoleOptions {
  /** UID the sidecar runs as (istio-proxy). Default 1337. */
  sidecarUid?: number;
  /** Outbound redirect listener port (istio-iptables -p). Default 15001. */
  outboundPort?: number;
  /** Inbound redirect listener port (istio-iptables -z). Default 15006. */
  inboundPort?: number;
  /** Source address the sidecar uses to reach the local app. Default 127.0.0.6. */
  passthroughIp?: string;
}

export interface MeshRole {
  role: Role;
  leg: SidecarLeg;
}

const TCP_LISTEN = 10;

export class MeshRoleClassifier {
  readonly sidecarUid: number;
  readonly outboundPort: number;
  readonly inboundPort: number;
  readonly passthroughIp: string;

  constructor(o: MeshRoleOptions = {}) {
    this.sidecarUid = o.sidecarUid ?? 1337;
    this.outboundPort = o.outboundPort ?? 15001;
    this.inboundPort = o.inboundPort ?? 15006;
    this.passthroughIp = o.passthroughIp ?? "127.0.0.6";
  }

  classify(uid: number, local: Endpoint | null | undefined, state: number): MeshRole {
    const port = local?.port ?? 0;
    // The redirect listeners and the passthrough source are the sidecar's by
    // construction, whatever UID it was (mis)configured to run as.
    if (state !== TCP_LISTEN) {
      if (port === this.outboundPort) return { role: Role.ROLE_SIDECAR, leg: SidecarLeg.SIDECAR_LEG_OUTBOUND_LISTENER };
      if (port === this.inboundPort) return { role: Role.ROLE_SIDECAR, leg: SidecarLeg.SIDECAR_LEG_INBOUND_LISTENER };
    }
    if (local?.ip === this.passthroughIp) return { role: Role.ROLE_SIDECAR, leg: SidecarLeg.SIDECAR_LEG_INBOUND_PASSTHROUGH };
    if (uid === this.sidecarUid) {
      // A dialed socket has an ephemeral local port; listeners and accepted admin sockets are "other".
      const leg = state === TCP_LISTEN || state === 0 ? SidecarLeg.SIDECAR_LEG_OTHER : SidecarLeg.SIDECAR_LEG_UPSTREAM;
      return { role: Role.ROLE_SIDECAR, leg };
    }
    return { role: Role.ROLE_APP, leg: SidecarLeg.SIDECAR_LEG_UNSPECIFIED };
  }
}
