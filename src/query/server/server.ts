// The HTTP query API under /api/v1 (fastify), and the web view beside it
// (routes/web.ts). Every parameter is checked by a JSON schema and then
// semantically; any failure is a 400 naming the parameter.
// Who may ask is access.ts (Host check, bearer token); where it may listen
// without a token is listen-policy.ts.
import Fastify, { LogController, type FastifyError, type FastifyInstance } from "fastify";
import { isBadQueryError, type TraceStore } from "../../store/mod.js";
import type { Logger } from "../../log/logger.js";
import { API_PREFIX, isBadParameterError } from "../mod.js";
import { installAccessControl, type ApiAccessOptions } from "./access.js";
import { createLiveHub, type LiveHub } from "./live-hub.js";
import { DEFAULT_API_HOST, DEFAULT_API_PORT, checkListen } from "./listen-policy.js";
import { healthRoutes, loadWebAssets, streamRoutes, timelineRoutes, tracesRoutes, webRoutes, type RouteDeps, type StoreWriteHealth } from "./routes/mod.js";
import { defaultWebAssetDir } from "../../web/asset-dir.js";
import { resolveSseOptions, type SseConnection, type SseOptions } from "./sse.js";

export interface QueryServerOptions extends ApiAccessOptions {
  store: TraceStore;
  /** Whether the store takes writes (the consumer's StoreHealth.state): /healthz says `degraded` when not. Default: reads only. */
  storeHealth?: () => StoreWriteHealth;
  /** Source of the live streams. Default: a hub nobody publishes into. */
  hub?: LiveHub;
  /**
   * Address (or name) to listen on. Default DEFAULT_API_HOST (127.0.0.1).
   * Anything but loopback needs `token`: the server refuses to start otherwise.
   */
  host?: string;
  /** Default DEFAULT_API_PORT (7070); 0 picks a free port. */
  port?: number;
  /** SSE heartbeat and back-pressure limits (see SseOptions for defaults). */
  sse?: SseOptions;
  /** Default: no logging. */
  log?: Logger;
  /**
   * The web view's built assets (src/web/build.ts). Default <package>/dist/web
   * (`npm run build`); false serves no web view. Read once, when the app is built.
   */
  webAssetDir?: string | false;
}

export interface QueryServer {
  /** e.g. "http://127.0.0.1:7070" */
  url: string;
  app: FastifyInstance;
  close(): Promise<void>;
}

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: { missingProperty?: string; additionalProperty?: string };
  parentSchema?: { description?: string };
}

/**
 * The fastify app without listening: what tests drive with `inject`. `host`
 * is where it will listen (for the Host check and the listen policy).
 * @throws UnprotectedListenError for a non-loopback host without a token.
 */
export async function buildQueryApp(opts: Omit<QueryServerOptions, "port">): Promise<FastifyInstance> {
  // Before anything is built: a bad option throws with nothing to clean up.
  const host = opts.host ?? DEFAULT_API_HOST;
  checkListen(host, opts.token !== undefined);
  const sse = resolveSseOptions(opts.sse);
  const app = Fastify({
    ...(opts.log ? { loggerInstance: opts.log } : { logger: false }),
    // Hijacked SSE sockets are never "idle" to Node, so close() would wait for
    // the client's keep-alive to lapse; queries are short, so cut everything.
    forceCloseConnections: true,
    // Per-request lines would drown the agent's own logs; errors are logged below.
    logController: new LogController({ disableRequestLogging: true }),
    // removeAdditional off so an unknown (misspelt) parameter is an error, not
    // silently ignored; verbose so errors carry the schema's description.
    ajv: { customOptions: { removeAdditional: false, verbose: true, allErrors: false } },
  }) as unknown as FastifyInstance;

  const deps: RouteDeps = {
    store: opts.store,
    ...(opts.storeHealth ? { storeHealth: opts.storeHealth } : {}),
    hub: opts.hub ?? createLiveHub(),
    sse,
    streams: new Set<SseConnection>(),
  };

  app.setErrorHandler((err: FastifyError & { validation?: AjvError[] }, _req, reply) => {
    if (err.validation?.length) {
      return reply.code(400).send({ error: "BAD_PARAMETER", message: validationMessage(err.validation[0]!) });
    }
    if (isBadParameterError(err) || isBadQueryError(err)) {
      return reply.code(400).send({ error: "BAD_PARAMETER", message: err.message });
    }
    if (err.statusCode && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: err.code ?? "BAD_REQUEST", message: err.message });
    }
    reply.log.error({ err }, "query failed");
    return reply.code(500).send({ error: "INTERNAL", message: err.message });
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({ error: "NOT_FOUND", message: `no route ${req.method} ${req.url.split("?")[0]}` }),
  );
  installAccessControl(app, host, opts);
  // SSE responses never finish by themselves; end them so close() does not wait forever.
  app.addHook("preClose", async () => {
    for (const s of deps.streams) s.close();
  });

  if (opts.webAssetDir !== false) {
    const assets = loadWebAssets(opts.webAssetDir ?? defaultWebAssetDir());
    if (!assets) app.log.warn("the web view is not built (npm run build): / answers 503");
    webRoutes(app, { assets, ...(opts.token !== undefined ? { token: opts.token } : {}) });
  }
  await app.register(
    async (api) => {
      tracesRoutes(api, deps);
      timelineRoutes(api, deps);
      streamRoutes(api, deps);
      healthRoutes(api, deps);
    },
    { prefix: API_PREFIX },
  );
  return app;
}

export async function startQueryServer(opts: QueryServerOptions): Promise<QueryServer> {
  const app = await buildQueryApp(opts);
  const host = opts.host ?? DEFAULT_API_HOST;
  try {
    await app.listen({ host, port: opts.port ?? DEFAULT_API_PORT });
  } catch (err) {
    await app.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === "object" && addr ? addr.port : (opts.port ?? DEFAULT_API_PORT);
  const url = `http://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return { url, app, close: () => app.close() };
}

function validationMessage(v: AjvError): string {
  const name = v.params?.missingProperty ?? (v.instancePath ?? "").replace(/^\//, "").replace(/\//g, ".");
  if (v.keyword === "additionalProperties" && v.params?.additionalProperty) {
    return `unknown parameter ${v.params.additionalProperty}`;
  }
  if (v.keyword === "required") return `${name} is required`;
  const description = v.parentSchema?.description;
  return description ? `${name} must be ${description}` : `${name} ${v.message ?? "is invalid"}`;
}
