// HAProxy configuration of a lab sidecar: a TCP proxy playing Envoy's two
// capture listeners. `server ... 0.0.0.0` without a port makes HAProxy dial
// the destination the client connected to, which for a REDIRECTed
// connection it recovers with getsockopt(SO_ORIGINAL_DST), as Envoy's
// original_dst listener filter does (HAProxy configuration manual, "server").

export interface SidecarConfigOptions {
  /** UID HAProxy switches to after binding; the mesh rules exempt it. Default: 1337. */
  uid?: number;
  /** GID HAProxy switches to after binding. Default: 1337. */
  gid?: number;
  /** Outbound capture listener. Default: 15001. */
  outboundPort?: number;
  /** Inbound capture listener. Default: 15006. */
  inboundPort?: number;
  /** Source address of the inbound passthrough to the local app. Default: "127.0.0.6". */
  passthroughSource?: string;
  /** `timeout connect`. Default: 2000 ms. */
  connectTimeoutMs?: number;
  /** `timeout client` and `timeout server`: a quiet connection is closed after this. Default: 30000 ms. */
  idleTimeoutMs?: number;
}

export const SIDECAR_DEFAULTS = {
  uid: 1337,
  gid: 1337,
  outboundPort: 15001,
  inboundPort: 15006,
  passthroughSource: "127.0.0.6",
  connectTimeoutMs: 2000,
  idleTimeoutMs: 30_000,
} as const;

export function sidecarConfig(opts: SidecarConfigOptions = {}): string {
  const o = { ...SIDECAR_DEFAULTS, ...stripUndefined(opts) };
  return `# tcptrail lab sidecar (generated)
global
    uid ${o.uid}
    gid ${o.gid}
    # one thread: every proxied connection is handled on the thread that accepted it
    nbthread 1
    maxconn 1024

defaults
    mode tcp
    # a refused upstream is reported, not retried: scenarios count every SYN
    retries 0
    timeout connect ${o.connectTimeoutMs}ms
    timeout client ${o.idleTimeoutMs}ms
    timeout server ${o.idleTimeoutMs}ms

frontend outbound
    bind 0.0.0.0:${o.outboundPort}
    default_backend original_destination

backend original_destination
    server orig 0.0.0.0

frontend inbound
    bind 0.0.0.0:${o.inboundPort}
    default_backend local_app

backend local_app
    server app 0.0.0.0 source ${o.passthroughSource}
`;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
