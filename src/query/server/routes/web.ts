// The web view on the API's own port: the page (index.html for / and every
// page path, so a trace's address can be bookmarked and reloaded), its two
// bundled assets, and the login that turns the API token into the browser's
// session cookie (../web-session.ts).
//
// The page and its assets are open without the token, like /healthz: they
// are the same bytes for everyone and hold no trace; everything they show
// comes from /api/v1, which keeps asking for the token (header or cookie).
// The Host check applies to them as to every route.
//
// Caching: the files are read once at startup, each with an ETag (a digest of
// its bytes); `no-cache` makes the browser revalidate, so a rebuilt page is
// seen at once and an unchanged one costs a 304.
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { WEB_ASSETS, type WebAssetName } from "../../../web/asset-dir.js";
import { bearerCheck } from "../bearer.js";
import { clearedSessionCookie, sessionCookie } from "../web-session.js";

export interface WebAsset {
  body: Buffer;
  type: string;
  etag: string;
}

export type WebAssets = ReadonlyMap<WebAssetName, WebAsset>;

const TYPES: Record<WebAssetName, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

/**
 * Only this origin's own files, no inline script or style, no frames: the
 * page renders trace data (pod names, process names) that a process chose,
 * and it inserts it as text, never markup; the policy is the second line.
 */
export const WEB_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** The built assets in `dir`, or undefined when it holds no complete build. */
export function loadWebAssets(dir: string): WebAssets | undefined {
  if (!WEB_ASSETS.every((name) => existsSync(join(dir, name)))) return undefined;
  return new Map(
    WEB_ASSETS.map((name) => {
      const body = readFileSync(join(dir, name));
      const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
      return [name, { body, type: TYPES[name], etag }] as const;
    }),
  );
}

export interface WebRouteOptions {
  /** Undefined: not built; the page paths answer 503 saying so. */
  assets: WebAssets | undefined;
  /** The API token, when one is configured: what /login checks. */
  token?: string;
}

/** Paths the page handles itself (web/main.ts routes on location.pathname). */
export const WEB_PAGE_PATHS = ["/", "/trace/:id", "/socket/:id"] as const;

const LOGIN_SCHEMA = {
  type: "object",
  required: ["token"],
  additionalProperties: false,
  properties: { token: { type: "string", minLength: 1, maxLength: 4096, description: "the API token" } },
} as const;

export function webRoutes(app: FastifyInstance, { assets, token }: WebRouteOptions): void {
  const send = (name: WebAssetName) => async (req: FastifyRequest, reply: FastifyReply) => {
    const asset = assets?.get(name);
    if (!asset) {
      return reply.code(503).type("text/plain; charset=utf-8").send("the web view is not built: run `npm run build` (it writes dist/web)\n");
    }
    reply
      .header("etag", asset.etag)
      .header("cache-control", "no-cache")
      .header("x-content-type-options", "nosniff")
      .header("referrer-policy", "no-referrer");
    if (name === "index.html") reply.header("content-security-policy", WEB_CONTENT_SECURITY_POLICY);
    if (req.headers["if-none-match"] === asset.etag) return reply.code(304).send();
    return reply.type(asset.type).send(asset.body);
  };

  for (const path of WEB_PAGE_PATHS) app.get(path, { config: { open: true } }, send("index.html"));
  app.get("/assets/app.js", { config: { open: true } }, send("app.js"));
  app.get("/assets/app.css", { config: { open: true } }, send("app.css"));

  const check = token !== undefined ? bearerCheck(token) : undefined;
  app.post<{ Body: { token: string } }>("/login", { config: { open: true }, schema: { body: LOGIN_SCHEMA } }, async (req, reply) => {
    // No token configured: nothing to prove; the page should not have asked.
    if (!check) return reply.code(204).send();
    if (!check.acceptsToken(req.body.token)) {
      req.log.warn({ remote: req.socket?.remoteAddress }, "web login with a wrong token refused");
      return reply.code(401).send({ error: "UNAUTHORIZED", message: "that is not this API's token" });
    }
    return reply.code(204).header("set-cookie", sessionCookie(req.body.token)).header("cache-control", "no-store").send();
  });
  app.post("/logout", { config: { open: true } }, async (_req, reply) => reply.code(204).header("set-cookie", clearedSessionCookie()).send());
}
