// Who may ask the API, against the real server (fastify listening on a free
// port, a SqliteTraceStore on a temp file): the bearer token, the Host check
// that defeats DNS rebinding, the listen policy (no token, no network), and
// no CORS header on any answer.
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QueryClient, isApiResponseError } from "../../src/query/mod.js";
import { hostAllowed, hostOf, hostPolicy } from "../../src/query/server/host-check.js";
import { isUnprotectedListenError, startQueryServer, type QueryServer } from "../../src/query/server/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { freePort } from "../../src/transport/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";
import { meshTrace } from "../store/fixtures.js";

const TOKEN = "s3cret-token-0123456789abcdef";
let tmp: TempDir;
let store: SqliteTraceStore;
let guarded: QueryServer;
let open: QueryServer;

beforeAll(async () => {
  tmp = await makeTempDir("api-access");
  store = new SqliteTraceStore({ path: join(tmp.path, "t.db") });
  await store.putTraces([meshTrace({ id: "t-1", k: 1, startUs: Date.now() * 1000 - 1e6 })]);
  guarded = await startQueryServer({ store, port: 0, token: TOKEN });
  open = await startQueryServer({ store, port: 0, allowedHosts: ["tcptrail.example"] });
});

afterAll(async () => {
  await guarded?.close();
  await open?.close();
  await store?.close();
  await tmp?.remove();
});

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/**
 * One GET with exactly these headers (node:http, since fetch will not send a
 * Host of our choosing). An event stream is read up to its first chunk.
 */
function get(base: string, path: string, headers: Record<string, string> = {}, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method, headers }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        body += chunk;
        if (String(res.headers["content-type"]).startsWith("text/event-stream")) {
          resolve({ status: res.statusCode!, headers: res.headers, body });
          req.destroy();
        }
      });
      res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on("error", reject);
    req.end();
  });
}
const json = (a: Answer) => JSON.parse(a.body) as { error?: string; message?: string; traces?: { trace_id: string }[] };
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const portOf = (s: QueryServer) => new URL(s.url).port;

describe("the bearer token", () => {
  it("is required on every route but /healthz: 401 with a JSON error and a challenge", async () => {
    for (const path of ["/api/v1/traces", "/api/v1/traces/t-1", "/api/v1/timeline?trace=t-1", "/api/v1/stream/traces", "/api/v1/stream/events", "/api/v1/nosuch"]) {
      const a = await get(guarded.url, path);
      expect(a.status, path).toBe(401);
      expect(json(a), path).toEqual({
        error: "UNAUTHORIZED",
        message: "this API requires Authorization: Bearer <token> (the CLI sends it from --api-token-file or TCPTRAIL_API_TOKEN)",
      });
      expect(a.headers["www-authenticate"], path).toBe('Bearer realm="tcptrail"');
    }
  });

  it("is accepted, the scheme in any case", async () => {
    const a = await get(guarded.url, "/api/v1/traces", bearer(TOKEN));
    expect(a.status, a.body).toBe(200);
    expect(json(a).traces!.map((t) => t.trace_id)).toEqual(["t-1"]);
    expect((await get(guarded.url, "/api/v1/traces/t-1", { authorization: `bearer ${TOKEN}` })).status).toBe(200);
    const stream = await get(guarded.url, "/api/v1/stream/traces", bearer(TOKEN));
    expect(stream.status).toBe(200);
    expect(stream.body).toBe(": connected\n\n");
  });

  it.each([
    ["a wrong token of the same length", bearer(TOKEN.slice(0, -1) + (TOKEN.endsWith("f") ? "e" : "f"))],
    ["a shorter token (a prefix)", bearer(TOKEN.slice(0, 8))],
    ["a longer token (the right one and more)", bearer(`${TOKEN}x`)],
    ["the token as a Basic credential", { authorization: `Basic ${TOKEN}` }],
    ["the token without a scheme", { authorization: TOKEN }],
  ])("refuses %s with 401", async (_what, headers) => {
    const a = await get(guarded.url, "/api/v1/traces", headers);
    expect(a.status).toBe(401);
    expect(json(a)).toEqual({ error: "UNAUTHORIZED", message: "the Authorization header does not carry this API's bearer token" });
    expect(a.headers["www-authenticate"]).toBe('Bearer realm="tcptrail", error="invalid_token"');
  });

  it("leaves /healthz open", async () => {
    const a = await get(guarded.url, "/api/v1/healthz");
    expect(a.status).toBe(200);
    expect(json(a)).toEqual({ status: "ok" });
  });

  it("is sent by QueryClient when given", async () => {
    const ok = await new QueryClient({ url: guarded.url, token: TOKEN }).listTraces();
    expect(ok.traces.map((t) => t.trace_id)).toEqual(["t-1"]);
    await expect(new QueryClient({ url: guarded.url }).listTraces()).rejects.toSatisfy((e) => isApiResponseError(e) && e.status === 401);
    expect(() => new QueryClient({ url: guarded.url, token: "two words" })).toThrow(/^token must be printable ASCII/);
  });

  it("must be one that can travel in a header, or the server does not start", async () => {
    for (const token of ["", "two words", "line\nbreak"]) {
      await expect(startQueryServer({ store, port: 0, token }), JSON.stringify(token)).rejects.toThrow(/^token must be printable ASCII/);
    }
  });
});

describe("the Host check (DNS rebinding)", () => {
  it("refuses a foreign Host with 403, whatever the route and even with the token", async () => {
    const port = portOf(guarded);
    for (const [path, headers] of [
      ["/api/v1/traces", { host: `evil.example:${port}`, ...bearer(TOKEN) }],
      ["/api/v1/healthz", { host: `evil.example:${port}` }],
      ["/api/v1/stream/events", { host: "127.0.0.1.evil.example", ...bearer(TOKEN) }],
      ["/api/v1/traces", { host: `localhost.evil.example:${port}`, ...bearer(TOKEN) }],
      // 0.0.0.0 reaches loopback from a browser, but it is no name of this API.
      ["/api/v1/traces", { host: `0.0.0.0:${port}`, ...bearer(TOKEN) }],
    ] as const) {
      const a = await get(guarded.url, path, headers);
      expect(a.status, `${path} ${headers.host}`).toBe(403);
      expect(json(a).error).toBe("HOST_NOT_ALLOWED");
      expect(json(a).message).toContain(`Host "${headers.host}" does not name this API`);
    }
  });

  it("answers loopback names and addresses, with or without a port", async () => {
    const port = portOf(open);
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, "127.0.0.1", `LocalHost.:${port}`, `[::1]:${port}`, `127.1.2.3:${port}`]) {
      const a = await get(open.url, "/api/v1/traces", { host });
      expect(a.status, host).toBe(200);
    }
  });

  it("answers a name given with allowedHosts, and only the open API without a token", async () => {
    expect((await get(open.url, "/api/v1/traces", { host: "tcptrail.example:443" })).status).toBe(200);
    expect((await get(open.url, "/api/v1/traces", { host: "TCPTRAIL.example." })).status).toBe(200);
    expect((await get(open.url, "/api/v1/traces", { host: "other.example" })).status).toBe(403);
  });

  it("refuses a request without a Host header", async () => {
    const status = await new Promise<string>((resolve, reject) => {
      const s = connect(Number(portOf(open)), "127.0.0.1", () => s.write("GET /api/v1/healthz HTTP/1.0\r\n\r\n"));
      let text = "";
      s.on("data", (d) => (text += d.toString()));
      s.on("end", () => resolve(text.split("\r\n")[0]!));
      s.on("error", reject);
    });
    expect(status).toBe("HTTP/1.1 403 Forbidden");
  });

  it("reads Host headers as browsers send them", () => {
    expect(hostOf("Example.COM.:8080")).toBe("example.com");
    expect(hostOf("[::1]:7070")).toBe("::1");
    expect(hostOf("[fd00::2]")).toBe("fd00::2");
    expect(hostOf("10.0.0.1:80")).toBe("10.0.0.1");
    for (const bad of [undefined, "", ":80", "a:b:c", "[::1"]) expect(hostOf(bad), String(bad)).toBeUndefined();
    // For a wildcard listen, an IP literal passes when it is the address the request came in on.
    const wildcard = hostPolicy("0.0.0.0");
    expect(hostAllowed("192.0.2.7:7070", "::ffff:192.0.2.7", wildcard)).toBe(true);
    expect(hostAllowed("192.0.2.8:7070", "::ffff:192.0.2.7", wildcard)).toBe(false);
    expect(hostAllowed("0.0.0.0:7070", "127.0.0.1", wildcard)).toBe(false);
    expect(hostAllowed("node-1.example", "192.0.2.7", hostPolicy("node-1.example"))).toBe(true);
  });
});

// A non-loopback address of this machine, if it has one (the listen address of a server reachable from elsewhere).
const lanAddress = Object.values(networkInterfaces())
  .flat()
  .find((i) => i && !i.internal && i.family === "IPv4")?.address;

describe("where the API may listen", () => {
  it("refuses anything but loopback without a token, before it listens", async () => {
    const port = await freePort();
    for (const host of ["0.0.0.0", "::", "tcptrail.example", ...(lanAddress ? [lanAddress] : [])]) {
      const err = await startQueryServer({ store, host, port }).then(
        (s) => s.close().then(() => undefined),
        (e: unknown) => e,
      );
      expect(isUnprotectedListenError(err), host).toBe(true);
      expect((err as Error).message).toContain(`the query API would listen on ${host}, which is not a loopback address, without a token`);
    }
    // Nothing was left listening on the port it was given.
    await expect(fetch(`http://127.0.0.1:${port}/api/v1/healthz`)).rejects.toThrow();
  });

  it("listens on any loopback address or localhost without a token", async () => {
    for (const host of ["127.0.0.2", "::1", "localhost"]) {
      const s = await startQueryServer({ store, host, port: 0 });
      try {
        expect((await get(s.url, "/api/v1/healthz")).status, host).toBe(200);
      } finally {
        await s.close();
      }
    }
  });

  it.skipIf(!lanAddress)("listens on a LAN address with a token, and answers Host: that address", async () => {
    const s = await startQueryServer({ store, host: lanAddress!, port: 0, token: TOKEN });
    try {
      const a = await get(s.url, "/api/v1/traces", bearer(TOKEN));
      expect(a.status, a.body).toBe(200);
      expect((await get(s.url, "/api/v1/traces", { ...bearer(TOKEN), host: "evil.example" })).status).toBe(403);
      expect((await get(s.url, "/api/v1/traces")).status).toBe(401);
    } finally {
      await s.close();
    }
  });

  it.skipIf(!lanAddress)("on 0.0.0.0 with a token, answers Host: the address a client reached it at", async () => {
    const s = await startQueryServer({ store, host: "0.0.0.0", port: 0, token: TOKEN });
    try {
      const viaLan = `http://${lanAddress}:${portOf(s)}`;
      expect((await get(viaLan, "/api/v1/traces", bearer(TOKEN))).status).toBe(200);
      expect((await get(viaLan, "/api/v1/traces", { ...bearer(TOKEN), host: `evil.example:${portOf(s)}` })).status).toBe(403);
    } finally {
      await s.close();
    }
  });
});

describe("CORS", () => {
  it("sends no Access-Control-* header on any answer, SSE and refusals included", async () => {
    const origin = { origin: "https://evil.example" };
    const answers = [
      await get(open.url, "/api/v1/traces", origin),
      await get(open.url, "/api/v1/healthz", origin),
      await get(open.url, "/api/v1/stream/traces", origin),
      await get(open.url, "/api/v1/stream/events", origin),
      await get(open.url, "/api/v1/traces", { ...origin, host: "evil.example" }),
      await get(guarded.url, "/api/v1/traces", origin),
      await get(guarded.url, "/api/v1/stream/events", { ...origin, ...bearer(TOKEN) }),
      // A browser's preflight: answered, but granting nothing.
      await get(open.url, "/api/v1/traces", { ...origin, "access-control-request-method": "GET", "access-control-request-headers": "authorization" }, "OPTIONS"),
    ];
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 403, 401, 200, 404]);
    for (const a of answers) {
      expect(Object.keys(a.headers).filter((h) => h.startsWith("access-control-"))).toEqual([]);
    }
  });
});
