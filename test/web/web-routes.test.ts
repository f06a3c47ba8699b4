// The web view's routes on the query API (fastify inject, no browser): the
// page and its assets with their types and caching, the same Host check as
// the API, and the token exchanged for the session cookie.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WEB_CONTENT_SECURITY_POLICY, WEB_TOKEN_COOKIE, buildQueryApp } from "../../src/query/server/mod.js";
import { cookieValue } from "../../src/query/server/web-session.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { WEB_ASSETS } from "../../src/web/asset-dir.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";

const TOKEN = 'tok;en,"=%x';
let tmp: TempDir;
let store: SqliteTraceStore;
let assets: string;
const apps: FastifyInstance[] = [];

async function app(opts: { token?: string; webAssetDir?: string | false } = {}): Promise<FastifyInstance> {
  const a = await buildQueryApp({ store, webAssetDir: assets, ...opts });
  apps.push(a);
  return a;
}

beforeAll(async () => {
  tmp = await makeTempDir("web-routes");
  store = new SqliteTraceStore({ path: join(tmp.path, "t.db") });
  // Stand-ins for a build: the routes serve whatever the build wrote.
  assets = tmp.path;
  for (const name of WEB_ASSETS) writeFileSync(join(assets, name), `/* ${name} */`);
});

afterAll(async () => {
  for (const a of apps) await a.close();
  await store?.close();
  await tmp?.remove();
});

describe("the page and its assets", () => {
  it.each([
    ["/", "text/html; charset=utf-8", "index.html"],
    ["/trace/abc", "text/html; charset=utf-8", "index.html"],
    ["/socket/lab%2Fffff%2F123", "text/html; charset=utf-8", "index.html"],
    ["/assets/app.js", "text/javascript; charset=utf-8", "app.js"],
    ["/assets/app.css", "text/css; charset=utf-8", "app.css"],
  ])("GET %s → %s", async (url, type, name) => {
    const res = await (await app()).inject({ url });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toBe(type);
    expect(res.body).toBe(`/* ${name} */`);
    expect(res.headers["cache-control"]).toBe("no-cache");
    expect(res.headers["x-content-type-options"]).toBe("nosniff");
    expect(res.headers.etag).toMatch(/^"[\w-]{22}"$/);
  });

  it("revalidates with the ETag: 304 while unchanged", async () => {
    const a = await app();
    const first = await a.inject({ url: "/assets/app.js" });
    const again = await a.inject({ url: "/assets/app.js", headers: { "if-none-match": first.headers.etag as string } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe("");
    const other = await a.inject({ url: "/assets/app.css", headers: { "if-none-match": first.headers.etag as string } });
    expect(other.statusCode).toBe(200);
  });

  it("sends the page with a policy that admits only its own origin", async () => {
    const res = await (await app()).inject({ url: "/" });
    expect(res.headers["content-security-policy"]).toBe(WEB_CONTENT_SECURITY_POLICY);
    expect(WEB_CONTENT_SECURITY_POLICY).toMatch(/default-src 'none'/);
    expect(WEB_CONTENT_SECURITY_POLICY).toMatch(/script-src 'self';/);
  });

  it("answers 503 saying how to build it when the assets are missing, 404 when turned off", async () => {
    const empty = join(tmp.path, "empty");
    const missing = await (await app({ webAssetDir: empty })).inject({ url: "/" });
    expect(missing.statusCode).toBe(503);
    expect(missing.body).toMatch(/npm run build/);
    const off = await (await app({ webAssetDir: false })).inject({ url: "/" });
    expect(off.statusCode).toBe(404);
  });

  it("applies the API's Host check", async () => {
    const res = await (await app()).inject({ url: "/", headers: { host: "evil.example:7070" } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ error: "HOST_NOT_ALLOWED" });
    const login = await (await app({ token: TOKEN })).inject({ method: "POST", url: "/login", headers: { host: "evil.example" }, payload: { token: TOKEN } });
    expect(login.statusCode).toBe(403);
    expect(login.headers["set-cookie"]).toBeUndefined();
  });
});

describe("the token in the browser", () => {
  it("serves the page without the token, the API only with it", async () => {
    const a = await app({ token: TOKEN });
    expect((await a.inject({ url: "/" })).statusCode).toBe(200);
    expect((await a.inject({ url: "/assets/app.js" })).statusCode).toBe(200);
    expect((await a.inject({ url: "/api/v1/traces" })).statusCode).toBe(401);
  });

  it("exchanges the right token for an HttpOnly SameSite=Strict cookie the API then accepts", async () => {
    const a = await app({ token: TOKEN });
    const wrong = await a.inject({ method: "POST", url: "/login", payload: { token: "nope" } });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.headers["set-cookie"]).toBeUndefined();

    const ok = await a.inject({ method: "POST", url: "/login", payload: { token: TOKEN } });
    expect(ok.statusCode).toBe(204);
    const setCookie = String(ok.headers["set-cookie"]);
    expect(setCookie).toMatch(new RegExp(`^${WEB_TOKEN_COOKIE}=[^;]+; Path=/; HttpOnly; SameSite=Strict$`));
    const cookie = setCookie.split(";")[0]!;
    expect(cookieValue(cookie, WEB_TOKEN_COOKIE)).toBe(TOKEN);

    expect((await a.inject({ url: "/api/v1/traces", headers: { cookie } })).statusCode).toBe(200);
    expect((await a.inject({ url: "/api/v1/traces", headers: { cookie: `other=1; ${cookie}` } })).statusCode).toBe(200);
    expect((await a.inject({ url: "/api/v1/traces", headers: { cookie: `${WEB_TOKEN_COOKIE}=nope` } })).statusCode).toBe(401);
  });

  it("takes the login only as JSON, so another site's form cannot post it", async () => {
    const a = await app({ token: TOKEN });
    const form = await a.inject({
      method: "POST",
      url: "/login",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      payload: `token=${encodeURIComponent(TOKEN)}`,
    });
    expect(form.statusCode).toBe(415);
    const text = await a.inject({ method: "POST", url: "/login", headers: { "content-type": "text/plain" }, payload: TOKEN });
    expect(text.statusCode).toBe(400);
    expect(text.headers["set-cookie"]).toBeUndefined();
  });

  it("logs out by clearing the cookie", async () => {
    const res = await (await app({ token: TOKEN })).inject({ method: "POST", url: "/logout" });
    expect(res.statusCode).toBe(204);
    expect(String(res.headers["set-cookie"])).toMatch(new RegExp(`^${WEB_TOKEN_COOKIE}=; .*Max-Age=0`));
  });
});

describe("cookieValue", () => {
  it.each([
    [undefined, undefined],
    ["", undefined],
    ["a=1; b=2", undefined],
    [`${WEB_TOKEN_COOKIE}=x%3By`, "x;y"],
    [`a=1;${WEB_TOKEN_COOKIE}=v`, "v"],
    [`${WEB_TOKEN_COOKIE}x=v`, undefined],
    [`${WEB_TOKEN_COOKIE}=%E0%A4%A`, undefined],
  ])("%j → %j", (header, want) => expect(cookieValue(header, WEB_TOKEN_COOKIE)).toBe(want));
});
