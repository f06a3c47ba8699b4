// The lab's keep-alive client and the app's keep-alive path, run as the lab
// runs them (plain node on their generated sources) but on 127.0.0.1 without
// namespaces or sidecars: client → app directly.
import { execa, type ResultPromise } from "execa";
import { writeFile } from "node:fs/promises";
import net from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { APP_SERVER_FILE, APP_SERVER_SOURCE } from "../../src/lab/app/app-server-script.js";
import { HTTP_CLIENT_FILE, HTTP_CLIENT_SOURCE } from "../../src/lab/app/http-client-script.js";
import { APP_HEADERS, APP_PATHS, type HttpClientPlan, type HttpClientRun } from "../../src/lab/mod.js";
import { freePort } from "../../src/transport/mod.js";
import { makeTempDir, waitFor, type TempDir } from "../helpers/mod.js";

let tmp: TempDir | undefined;
let app: ResultPromise | undefined;
let port = 0;

async function runClient(plan: Omit<HttpClientPlan, "ip" | "port">): Promise<HttpClientRun> {
  const r = await execa(process.execPath, [join(tmp!.path, HTTP_CLIENT_FILE), JSON.stringify({ ip: "127.0.0.1", port, ...plan })]);
  return JSON.parse(r.stdout.trim().split("\n").pop()!) as HttpClientRun;
}

describe("keep-alive client and app (loopback, no lab)", () => {
  beforeAll(async () => {
    tmp = await makeTempDir("http-client");
    await writeFile(join(tmp.path, APP_SERVER_FILE), APP_SERVER_SOURCE);
    await writeFile(join(tmp.path, HTTP_CLIENT_FILE), HTTP_CLIENT_SOURCE);
    port = await freePort();
    app = execa(process.execPath, [join(tmp.path, APP_SERVER_FILE), String(port)], { reject: false });
    let out = "";
    app.stdout?.on("data", (d: Buffer) => (out += d.toString()));
    await waitFor(() => out.includes('"listening"'), { what: "the lab app to listen" });
  });

  afterAll(async () => {
    app?.kill("SIGTERM");
    await app;
    await tmp?.remove();
  });

  it("sends each connection's requests with ids in order over one connection, the last with Connection: close", async () => {
    const run = await runClient({ path: `${APP_PATHS.keepAlive}?idle=5000`, idPrefix: "t-", connections: 3, requestsPerConnection: 2, gapUs: 1000, timeoutMs: 5000 });
    expect(run.connections).toHaveLength(3);
    expect(run.connections.map((c) => c.requests.map((q) => q.id))).toEqual([["t-0", "t-1"], ["t-2", "t-3"], ["t-4", "t-5"]]);
    for (const c of run.connections) {
      expect(c.requests.map((q) => q.status)).toEqual([200, 200]);
      // Keep-alive within a connection: both answers from the same app connection; the app closed after "Connection: close".
      expect(new Set(c.requests.map((q) => q.appConn)).size).toBe(1);
      expect(c.end).toBe("peer-fin");
      expect(c.local?.port).toBeGreaterThan(0);
    }
    // Without a pooling proxy in between, every client connection is a new app connection.
    expect(new Set(run.connections.map((c) => c.requests[0]!.appConn)).size).toBe(3);
    // The gap is kept: the next connection's first request goes at least gapUs after the previous answer.
    for (let i = 1; i < 3; i++) {
      const prev = run.connections[i - 1]!.requests.at(-1)!;
      const first = run.connections[i]!.requests[0]!;
      expect(first.gapUs).toBe(1000);
      expect(first.sentUs - prev.doneUs).toBeGreaterThanOrEqual(1000);
    }
  });

  it("sweeps the gap down in steps when each request found a new app connection (too late), within its bounds", async () => {
    const sweep = { startUs: 3000, stepUs: 500, minUs: 2000, maxUs: 5000 };
    const run = await runClient({ path: APP_PATHS.keepAlive, idPrefix: "s-", connections: 5, requestsPerConnection: 1, sweep, timeoutMs: 5000 });
    expect(run.connections.map((c) => c.requests[0]!.gapUs)).toEqual([null, 3000, 2500, 2000, 2000]);
  });

  it("app: the keep-alive path answers with the request id and its connection number, and closes after ?idle ms without a request", async () => {
    const sock = net.connect({ host: "127.0.0.1", port });
    await new Promise((r) => sock.once("connect", r));
    let text = "";
    // When each answer completed (the data event's time: the wait below polls and would add its interval).
    const answers: number[] = [];
    sock.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      while (answers.length < text.split("\r\n\r\nka\n").length - 1) answers.push(Date.now());
    });
    const ended = new Promise<number>((r) => sock.once("end", () => r(Date.now())));
    sock.write(`GET ${APP_PATHS.keepAlive}?idle=150&id=x1 HTTP/1.1\r\nHost: lab\r\n\r\n`);
    await waitFor(() => answers.length === 1, { what: "the first answer" });
    // A second request inside the idle time keeps the connection open and resets the clock.
    sock.write(`GET ${APP_PATHS.keepAlive}?idle=150&id=x2 HTTP/1.1\r\nHost: lab\r\n\r\n`);
    await waitFor(() => answers.length === 2, { what: "the second answer" });
    const [answeredAt, secondAt] = answers as [number, number];
    const closedAt = await ended;
    sock.destroy();
    expect(text).toMatch(new RegExp(`${APP_HEADERS.request}: x1\\r\\n`, "i"));
    expect(text).toMatch(new RegExp(`${APP_HEADERS.request}: x2\\r\\n`, "i"));
    const conns = [...text.matchAll(new RegExp(`${APP_HEADERS.conn}: (\\d+)`, "gi"))].map((m) => m[1]);
    expect(conns).toHaveLength(2);
    expect(conns[0]).toBe(conns[1]);
    expect(closedAt - secondAt).toBeGreaterThanOrEqual(140);
    expect(closedAt - answeredAt).toBeGreaterThanOrEqual(140);
    expect(closedAt - secondAt).toBeLessThan(2000);
  });
});
