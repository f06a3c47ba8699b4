// HAProxy configuration of a lab sidecar: a TCP proxy playing Envoy's two
// capture listeners. `server ... 0.0.0.0` without a port makes HAProxy dial
// the destination the client connected to, which for a REDIRECTed
// connection it recovers with getsockopt(SO_ORIGINAL_DST), as Envoy's
// original_dst listener filter does (HAProxy configuration manual, "server").
//
// In HTTP mode the outbound backend can pool: with `http-reuse` an idle
// upstream connection serves the next request, also from another client
// connection, as Envoy's connection pools do. The manual ("http-reuse") keys
// reuse on the connection's source and destination address, so with the
// original-destination server a pooled connection only serves requests for
// the same original destination: the pool is per peer, as in a mesh.

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
  /** Proxy mode of both listeners: "tcp" passes bytes through; "http" parses requests (and may pool upstreams). Default: "tcp". */
  mode?: SidecarMode;
  /**
   * `http-reuse` of the outbound original-destination backend, in "http" mode
   * only: "always" lets a new client connection's first request take an idle
   * upstream connection. Default: "safe" (HAProxy's own default).
   */
  httpReuse?: HttpReuse;
}

export type SidecarMode = "tcp" | "http";
export type HttpReuse = "never" | "safe" | "aggressive" | "always";

export const isSidecarMode = (v: unknown): v is SidecarMode => v === "tcp" || v === "http";
export const isHttpReuse = (v: unknown): v is HttpReuse => v === "never" || v === "safe" || v === "aggressive" || v === "always";

export const SIDECAR_DEFAULTS = {
  uid: 1337,
  gid: 1337,
  outboundPort: 15001,
  inboundPort: 15006,
  passthroughSource: "127.0.0.6",
  connectTimeoutMs: 2000,
  idleTimeoutMs: 30_000,
  mode: "tcp",
  httpReuse: "safe",
} as const satisfies Required<SidecarConfigOptions>;

export function sidecarConfig(opts: SidecarConfigOptions = {}): string {
  const o: Required<SidecarConfigOptions> = { ...SIDECAR_DEFAULTS, ...stripUndefined(opts) };
  // Reuse is an HTTP notion: in tcp mode every client connection has its own upstream.
  const reuse = o.mode === "http" ? `\n    http-reuse ${o.httpReuse}` : "";
  return `# tcptrail lab sidecar (generated)
global
    uid ${o.uid}
    gid ${o.gid}
    # one thread: every proxied connection is handled on the thread that accepted it
    nbthread 1
    maxconn 1024

defaults
    mode ${o.mode}
    # a refused upstream is reported, not retried: scenarios count every SYN
    retries 0
    timeout connect ${o.connectTimeoutMs}ms
    timeout client ${o.idleTimeoutMs}ms
    timeout server ${o.idleTimeoutMs}ms

frontend outbound
    bind 0.0.0.0:${o.outboundPort}
    default_backend original_destination

backend original_destination${reuse}
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
