// The nat table istio-iptables installs in a meshed pod, as iptables-restore
// text. Chains, rule order and matches follow a real `iptables-save` of an
// Istio pod (ISTIO_INBOUND/ISTIO_IN_REDIRECT/ISTIO_OUTPUT/ISTIO_REDIRECT);
// only the proxy UID/GID and the ports are parameters. Applying it with
// iptables-restore inside the pod's netns is atomic, and the rules disappear
// with the namespace.

export interface MeshRulesOptions {
  /** UID the sidecar runs as; its own traffic is exempt from REDIRECT. Default: 1337. */
  proxyUid?: number;
  /** GID the sidecar runs as. Default: 1337. */
  proxyGid?: number;
  /** Outbound capture listener (ISTIO_REDIRECT). Default: 15001. */
  outboundPort?: number;
  /** Inbound capture listener (ISTIO_IN_REDIRECT). Default: 15006. */
  inboundPort?: number;
  /** Inbound ports never redirected (HBONE, Prometheus, health, agent). Default: [15008, 15090, 15021, 15020]. */
  inboundExcludePorts?: readonly number[];
}

export const MESH_DEFAULTS = {
  proxyUid: 1337,
  proxyGid: 1337,
  outboundPort: 15001,
  inboundPort: 15006,
  inboundExcludePorts: [15008, 15090, 15021, 15020] as readonly number[],
} as const;

export type ResolvedMeshRules = Required<MeshRulesOptions>;

export function resolveMeshRules(opts: MeshRulesOptions = {}): ResolvedMeshRules {
  return {
    proxyUid: opts.proxyUid ?? MESH_DEFAULTS.proxyUid,
    proxyGid: opts.proxyGid ?? MESH_DEFAULTS.proxyGid,
    outboundPort: opts.outboundPort ?? MESH_DEFAULTS.outboundPort,
    inboundPort: opts.inboundPort ?? MESH_DEFAULTS.inboundPort,
    inboundExcludePorts: opts.inboundExcludePorts ?? MESH_DEFAULTS.inboundExcludePorts,
  };
}

/** iptables-restore input for the nat table of a meshed pod (ends with COMMIT and a newline). */
export function meshNatRules(opts: MeshRulesOptions = {}): string {
  const o = resolveMeshRules(opts);
  const lines = [
    "*nat",
    ":PREROUTING ACCEPT [0:0]",
    ":INPUT ACCEPT [0:0]",
    ":OUTPUT ACCEPT [0:0]",
    ":POSTROUTING ACCEPT [0:0]",
    ":ISTIO_INBOUND - [0:0]",
    ":ISTIO_IN_REDIRECT - [0:0]",
    ":ISTIO_OUTPUT - [0:0]",
    ":ISTIO_REDIRECT - [0:0]",
    "-A PREROUTING -p tcp -j ISTIO_INBOUND",
    "-A OUTPUT -p tcp -j ISTIO_OUTPUT",
    ...o.inboundExcludePorts.map((p) => `-A ISTIO_INBOUND -p tcp -m tcp --dport ${p} -j RETURN`),
    "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT",
    `-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports ${o.inboundPort}`,
    // The inbound passthrough source: the sidecar's connection to the local app.
    "-A ISTIO_OUTPUT -s 127.0.0.6/32 -o lo -j RETURN",
    // The proxy calling its own pod IP over lo goes through the inbound listener.
    `-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --uid-owner ${o.proxyUid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner ${o.proxyUid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --uid-owner ${o.proxyUid} -j RETURN`,
    `-A ISTIO_OUTPUT ! -d 127.0.0.1/32 -o lo -m owner --gid-owner ${o.proxyGid} -j ISTIO_IN_REDIRECT`,
    `-A ISTIO_OUTPUT -o lo -m owner ! --gid-owner ${o.proxyGid} -j RETURN`,
    `-A ISTIO_OUTPUT -m owner --gid-owner ${o.proxyGid} -j RETURN`,
    "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN",
    "-A ISTIO_OUTPUT -j ISTIO_REDIRECT",
    `-A ISTIO_REDIRECT -p tcp -j REDIRECT --to-ports ${o.outboundPort}`,
    "COMMIT",
  ];
  return lines.join("\n") + "\n";
}
