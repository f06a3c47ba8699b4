// Who may ask the API: one onRequest hook on the whole app, so every route,
// the SSE streams and the 404 answer alike pass it before any handler runs.
// First the Host check (every request: see host-check.ts), then, when a token
// is configured, `Authorization: Bearer <token>` on every route except the
// ones that declare `config: { open: true }` (/healthz, which says nothing
// about traces, and the web view's static page and login: see web-session.ts).
// A route is closed unless it says otherwise, so a new route cannot be left
// open by forgetting a line. A browser may carry the token in the web view's
// session cookie instead of the header: EventSource cannot send headers.
//
// No CORS headers are ever sent: without Access-Control-Allow-Origin a
// browser lets no other origin read an answer, which is the point.
import type { FastifyInstance } from "fastify";
import { bearerCheck } from "./bearer.js";
import { hostAllowed, hostPolicy } from "./host-check.js";
import { WEB_TOKEN_COOKIE, cookieValue } from "./web-session.js";

declare module "fastify" {
  interface FastifyContextConfig {
    /** Answer without the bearer token (the Host check still applies). Default false. */
    open?: boolean;
  }
}

export interface ApiAccessOptions {
  /** Bearer token every route but /healthz requires. Default: none (then the API must listen on loopback). */
  token?: string;
  /** Names a Host header may give besides loopback and the listen address (e.g. the name a proxy or DNS gives this node). Default none. */
  allowedHosts?: readonly string[];
}

export function installAccessControl(app: FastifyInstance, listenHost: string, opts: ApiAccessOptions): void {
  const policy = hostPolicy(listenHost, opts.allowedHosts);
  const bearer = opts.token !== undefined ? bearerCheck(opts.token) : undefined;
  app.addHook("onRequest", async (req, reply) => {
    if (!hostAllowed(req.headers.host, req.socket?.localAddress, policy)) {
      req.log.warn({ host: req.headers.host, remote: req.socket?.remoteAddress }, "request with a foreign Host refused");
      return reply.code(403).send({
        error: "HOST_NOT_ALLOWED",
        message:
          `Host ${JSON.stringify(req.headers.host ?? "")} does not name this API: it answers requests addressed to a loopback name or address, ` +
          "the address it listens on, or a name allowed with --api-allowed-host (a defence against DNS rebinding)",
      });
    }
    if (
      bearer &&
      !req.routeOptions.config.open &&
      !bearer.accepts(req.headers.authorization) &&
      !bearer.acceptsToken(cookieValue(req.headers.cookie, WEB_TOKEN_COOKIE))
    ) {
      req.log.warn({ remote: req.socket?.remoteAddress, url: req.url.split("?")[0] }, "request without the API token refused");
      const missing = req.headers.authorization === undefined;
      return reply
        .code(401)
        .header("www-authenticate", missing ? 'Bearer realm="tcptrail"' : 'Bearer realm="tcptrail", error="invalid_token"')
        .send({
          error: "UNAUTHORIZED",
          message: missing
            ? "this API requires Authorization: Bearer <token> (the CLI sends it from --api-token-file or TCPTRAIL_API_TOKEN)"
            : "the Authorization header does not carry this API's bearer token",
        });
    }
  });
}
