import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { WebhookSink, alertToJson } from "../../src/alert/mod.js";
import { isInvalidArgumentError } from "../../src/errors/mod.js";
import { Severity, v1, type Alert } from "../../src/model/mod.js";

interface Received {
  method: string;
  contentType: string | undefined;
  auth: string | undefined;
  body: unknown;
  at: number;
}

/** A real HTTP receiver on 127.0.0.1 whose answer to each request the test decides. */
let server: Server;
let url: string;
let received: Received[] = [];
let respond: (req: Received, res: ServerResponse) => void = (_r, res) => res.writeHead(204).end();

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r: Received = {
        method: req.method ?? "",
        contentType: req.headers["content-type"],
        auth: req.headers.authorization,
        body: JSON.parse(Buffer.concat(chunks).toString("utf8")),
        at: Date.now(),
      };
      received.push(r);
      respond(r, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  received = [];
  respond = (_r, res) => res.writeHead(204).end();
});

function alert(id: string): Alert {
  return v1.Alert.create({
    alertId: id,
    rule: "refused",
    severity: Severity.SEVERITY_WARNING,
    traceId: `trace-${id}`,
    explanation: "connection refused: nothing listens on 10.88.0.3:9999.",
    timeUs: 1_700_000_000_000_000,
    count: 2,
    sourcePod: "tt-a",
    destination: "10.88.0.3:9999",
  });
}

describe("WebhookSink", () => {
  it("POSTs each alert as one JSON object with the configured headers", async () => {
    const sink = new WebhookSink({ url, headers: { authorization: "Bearer t0k" } });
    sink.send(alert("a1"));
    sink.send(alert("a2"));
    await sink.drain();
    expect(received.map((r) => [r.method, r.contentType, r.auth])).toEqual([
      ["POST", "application/json", "Bearer t0k"],
      ["POST", "application/json", "Bearer t0k"],
    ]);
    expect(received[0]!.body).toEqual({
      alert_id: "a1",
      rule: "refused",
      severity: "warning",
      trace_id: "trace-a1",
      explanation: "connection refused: nothing listens on 10.88.0.3:9999.",
      time: "2023-11-14T22:13:20.000Z",
      time_us: 1_700_000_000_000_000,
      count: 2,
      source_pod: "tt-a",
      destination: "10.88.0.3:9999",
    });
    expect(received[1]!.body).toEqual(alertToJson(alert("a2")));
    expect(sink.stats()).toEqual({ delivered: 2, failed: 0, dropped: 0, retries: 0, queued: 0 });
  });

  it("retries after a 500 with backoff, then delivers", async () => {
    let calls = 0;
    respond = (_r, res) => void (++calls <= 2 ? res.writeHead(500).end("boom") : res.writeHead(200).end("ok"));
    const sink = new WebhookSink({ url, retries: 3, backoffMs: 40 });
    sink.send(alert("r1"));
    await sink.drain();
    expect(received).toHaveLength(3);
    expect(received.every((r) => (r.body as { alert_id: string }).alert_id === "r1")).toBe(true);
    // Jittered backoff: at least half of 40 ms, then half of 80 ms.
    expect(received[1]!.at - received[0]!.at).toBeGreaterThanOrEqual(19);
    expect(received[2]!.at - received[1]!.at).toBeGreaterThanOrEqual(39);
    expect(sink.stats()).toMatchObject({ delivered: 1, failed: 0, retries: 2 });
  });

  it("gives up after its retries and counts the failure", async () => {
    respond = (_r, res) => res.writeHead(503).end();
    const sink = new WebhookSink({ url, retries: 2, backoffMs: 5 });
    sink.send(alert("f1"));
    await sink.drain();
    expect(received).toHaveLength(3);
    expect(sink.stats()).toMatchObject({ delivered: 0, failed: 1, retries: 2 });
  });

  it("does not retry a 4xx: the request itself is wrong", async () => {
    respond = (_r, res) => res.writeHead(400).end();
    const sink = new WebhookSink({ url, retries: 3, backoffMs: 5 });
    sink.send(alert("bad"));
    await sink.drain();
    expect(received).toHaveLength(1);
    expect(sink.stats()).toMatchObject({ failed: 1, retries: 0 });
  });

  it("times out a receiver that never answers, and retries", async () => {
    respond = () => undefined; // hold the request open
    const sink = new WebhookSink({ url, timeoutMs: 100, retries: 1, backoffMs: 5 });
    const started = Date.now();
    sink.send(alert("slow"));
    await sink.drain();
    expect(received).toHaveLength(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(200);
    expect(sink.stats()).toMatchObject({ failed: 1, retries: 1 });
  });

  it("never blocks the sender: send() returns at once and a full queue drops", async () => {
    // Deliberate pacing: a slow receiver, so sends pile up behind the first delivery.
    respond = (_r, res) => void setTimeout(() => res.writeHead(204).end(), 50);
    const sink = new WebhookSink({ url, maxQueue: 2 });
    const started = performance.now();
    for (let i = 0; i < 5; i++) sink.send(alert(`q${i}`));
    expect(performance.now() - started).toBeLessThan(20);
    await sink.close();
    // One taken by the worker at once, two queued, two dropped.
    expect(sink.stats()).toEqual({ delivered: 3, failed: 0, dropped: 2, retries: 0, queued: 0 });
    sink.send(alert("after-close"));
    expect(sink.stats().dropped).toBe(3);
  });

  it("counts an unreachable receiver as a failure", async () => {
    // A port that was just free: bind, read it, close.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const sink = new WebhookSink({ url: `http://127.0.0.1:${port}/`, retries: 1, backoffMs: 5 });
    sink.send(alert("down"));
    await sink.drain();
    expect(sink.stats()).toMatchObject({ delivered: 0, failed: 1, retries: 1 });
  });

  it.each([
    ["a non-http URL", "file:///etc/passwd", /must be http or https/],
    ["no URL at all", "alerts.example", /must be an http or https URL \(got "alerts\.example"\)/],
  ])("rejects %s with an InvalidArgumentError naming the webhook URL", (_what, bad, message) => {
    let err: unknown;
    try {
      new WebhookSink({ url: bad });
    } catch (e) {
      err = e;
    }
    expect(isInvalidArgumentError(err) && err.property).toBe("webhook URL");
    expect((err as Error).message).toMatch(message);
  });
});
