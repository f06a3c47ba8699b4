import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Outcome, Role, TcpState } from "../../src/model/mod.js";
import { QueryClient, isApiUnreachableError, type TraceJson } from "../../src/query/mod.js";
import { buildQueryApp, createLiveHub, startQueryServer } from "../../src/query/server/mod.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { makeTempDir, waitFor, type TempDir } from "../helpers/mod.js";
import { A, B, NODE, meshTrace, stateEvent } from "../store/fixtures.js";

let tmp: TempDir;
let store: SqliteTraceStore;
let app: FastifyInstance;
const now = Date.now() * 1000;

beforeAll(async () => {
  tmp = await makeTempDir("api");
  store = new SqliteTraceStore({ path: join(tmp.path, "t.db") });
  await store.putTraces([
    meshTrace({ id: "old", k: 1, startUs: now - 2 * 3600e6, podA: "web", podB: "api" }),
    meshTrace({ id: "mid", k: 2, startUs: now - 60e6, podA: "web", podB: "db", outcome: Outcome.OUTCOME_COMPLETED }),
    meshTrace({ id: "new", k: 3, startUs: now - 1e6, podA: "cron", podB: "api", originRole: Role.ROLE_SIDECAR }),
  ]);
  await store.putEvents({ node: NODE, bootId: "b", agentStartUs: 1 }, [
    stateEvent({ sock: "s1", tNs: now * 1000, local: [A, 41000], remote: [B, 8080], from: TcpState.TCP_STATE_CLOSE, to: TcpState.TCP_STATE_SYN_SENT }),
    stateEvent({ sock: "s2", tNs: now * 1000 + 5000, local: [B, 8080], remote: [A, 41000], from: TcpState.TCP_STATE_LISTEN, to: TcpState.TCP_STATE_SYN_RECV }),
  ]);
  app = await buildQueryApp({ store });
});

afterAll(async () => {
  await app?.close();
  await store?.close();
  await tmp?.remove();
});

async function get(url: string) {
  const res = await app.inject({ method: "GET", url });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}
const traceIds = (b: Record<string, unknown>) => (b.traces as TraceJson[]).map((t) => t.trace_id);

describe("GET /api/v1/traces", () => {
  it("lists traces newest first in the JSON shape", async () => {
    const { status, body } = await get("/api/v1/traces");
    expect(status).toBe(200);
    expect(traceIds(body)).toEqual(["new", "mid", "old"]);
    const t = (body.traces as TraceJson[])[0]!;
    expect(t.outcome).toBe("RESET_BY_SERVER");
    expect(t.reset_origin).toMatchObject({ role: "SIDECAR", pod: "api", port: 15006, comm: "haproxy", uid: 1337 });
    expect(t.hops[0]).toMatchObject({
      index: 1,
      original_destination: `${B}:8080`,
      opened_by: "client",
      first_fin_by: "server",
      reset_by: null,
      client: { ip: A, port: 40003, pod: "cron", role: "APP", pid: 812, comm: "node", uid: 0, netns: 4026532801 },
    });
    expect(t.hops[2]).toMatchObject({ reset_by: "server", reset_reason: "TCP_ABORT_ON_CLOSE" });
    expect(t.start).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it("applies filters", async () => {
    expect(traceIds((await get("/api/v1/traces?since=5m")).body)).toEqual(["new", "mid"]);
    expect(traceIds((await get("/api/v1/traces?until=30m")).body)).toEqual(["old"]);
    expect(traceIds((await get("/api/v1/traces?pod=api")).body)).toEqual(["new", "old"]);
    expect(traceIds((await get(`/api/v1/traces?ip=${A}&port=40002`)).body)).toEqual(["mid"]);
    expect(traceIds((await get("/api/v1/traces?outcome=completed")).body)).toEqual(["mid"]);
    expect(traceIds((await get("/api/v1/traces?outcome=COMPLETED,RESET_BY_SERVER&role=sidecar")).body)).toEqual(["new"]);
    const p1 = (await get("/api/v1/traces?limit=2")).body;
    expect(traceIds(p1)).toEqual(["new", "mid"]);
    const p2 = (await get(`/api/v1/traces?limit=2&cursor=${p1.next_cursor}`)).body;
    expect(traceIds(p2)).toEqual(["old"]);
    expect(p2.next_cursor).toBeNull();
  });

  it.each([
    ["since=abc", /^since must be a duration like 5m/],
    // Date.parse would roll these over to March 3 and 00:00 of the next day.
    ["since=2026-02-31T00:00:00Z", /^since must be .*; February 2026 has 28 days \(got "2026-02-31T00:00:00Z"\)$/],
    ["until=2026-11-21T24:00:00Z", /^until must be .*; 24:00:00 is not a time of day/],
    ["since=5m5m", /^since must be a duration like 5m/],
    ["port=70000", /^port must be an integer between 1 and 65535$/],
    ["port=abc", /^port must be an integer between 1 and 65535$/],
    ["outcome=bogus", /^outcome must be one or more \(comma-separated\) of COMPLETED, REFUSED/],
    ["limit=-1", /^limit must be an integer between 1 and 1000$/],
    ["limit=1001", /^limit must be an integer between 1 and 1000$/],
    ["ip=999.1.1.1", /^ip must be an IPv4 or IPv6 address$/],
    ["role=boss", /^role must be one of APP, SIDECAR, NETWORK$/],
    ["since=1m&until=1h", /^until must not be before since$/],
    ["cursor=zzz", /^cursor /],
    ["colour=red", /^unknown parameter colour$/],
  ])("answers 400 naming the parameter for %s", async (qs, message) => {
    const { status, body } = await get(`/api/v1/traces?${qs}`);
    expect(status).toBe(400);
    expect(body.error).toBe("BAD_PARAMETER");
    expect(body.message).toMatch(message);
  });
});

describe("GET /api/v1/traces/:id and /timeline", () => {
  it("returns one trace, 404 for an unknown one", async () => {
    const ok = await get("/api/v1/traces/mid");
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ trace_id: "mid", outcome: "COMPLETED" });
    const missing = await get("/api/v1/traces/nope");
    expect(missing).toEqual({ status: 404, body: { error: "NOT_FOUND", message: "no trace with id nope" } });
  });

  it("returns both ends of a connection by endpoint", async () => {
    const { status, body } = await get(`/api/v1/timeline?ip=${A}&port=41000`);
    expect(status).toBe(200);
    const events = body.events as { sock: string; kind: string; new_state: string; local: string }[];
    expect(events.map((e) => [e.sock, e.new_state])).toEqual([
      ["s1", "SYN_SENT"],
      ["s2", "SYN_RECV"],
    ]);
    expect(events[0]).toMatchObject({ kind: "STATE_CHANGE", local: `${A}:41000`, node: NODE, ret: null });
  });

  it("rejects a timeline without exactly one target", async () => {
    expect((await get("/api/v1/timeline")).status).toBe(400);
    expect((await get("/api/v1/timeline?trace=a&ip=1.2.3.4")).body.message).toBe("give exactly one of trace, socket or ip");
    expect((await get("/api/v1/timeline?socket=bad")).body.message).toMatch(/^socket must be/);
    expect((await get("/api/v1/timeline?trace=x&limit=0")).status).toBe(400);
  });

  it("reports health", async () => {
    expect(await get("/api/v1/healthz")).toEqual({ status: 200, body: { status: "ok" } });
  });
});

describe("live streams over a real socket", () => {
  it("delivers a published trace to a matching SSE client only", async () => {
    const hub = createLiveHub();
    const server = await startQueryServer({ store, hub, port: 0 });
    const ac = new AbortController();
    try {
      expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      const res = await fetch(`${server.url}/api/v1/stream/traces?pod=api`, { signal: ac.signal });
      expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let buf = dec.decode((await reader.read()).value);
      expect(buf).toContain(": connected");
      expect(hub.subscribers.traces).toBe(1);
      hub.publishTrace(meshTrace({ id: "filtered-out", startUs: now, podA: "x", podB: "y" }));
      hub.publishTrace(meshTrace({ id: "live-1", startUs: now, podB: "api" }));
      while (!buf.includes("live-1")) buf += dec.decode((await reader.read()).value);
      expect(buf).not.toContain("filtered-out");
      const data = /event: trace\ndata: (.*)\n/.exec(buf.slice(buf.indexOf("event: trace")));
      expect(JSON.parse(data![1]!)).toMatchObject({ trace_id: "live-1", outcome: "RESET_BY_SERVER" });
      ac.abort();
      // The server notices the client leaving and unsubscribes.
      await waitFor(() => hub.subscribers.traces === 0, { what: "the server to unsubscribe the client that left", timeoutMs: 1000, intervalMs: 10 });
    } finally {
      ac.abort();
      await server.close();
    }
  });

  it("streams events and closes open streams on shutdown", async () => {
    const hub = createLiveHub();
    const server = await startQueryServer({ store, hub, port: 0 });
    try {
      const bad = await fetch(`${server.url}/api/v1/stream/events?kind=nope`);
      expect(bad.status).toBe(400);
      const res = await fetch(`${server.url}/api/v1/stream/events?port=9`);
      const reader = res.body!.getReader();
      const dec = new TextDecoder();
      let buf = dec.decode((await reader.read()).value);
      hub.publishEvents(NODE, [
        stateEvent({ sock: "other", tNs: 1, local: [A, 1], remote: [B, 2], from: TcpState.TCP_STATE_CLOSE, to: TcpState.TCP_STATE_SYN_SENT }),
        stateEvent({ sock: "mine", tNs: 2, local: [A, 3], remote: [B, 9], from: TcpState.TCP_STATE_CLOSE, to: TcpState.TCP_STATE_SYN_SENT }),
      ]);
      while (!buf.includes("mine")) buf += dec.decode((await reader.read()).value);
      expect(buf).not.toContain('"other"');
      await server.close();
      // close() returned, so the stream was ended rather than left hanging.
      let done = false;
      while (!done) done = (await reader.read()).done;
      expect(hub.subscribers.events).toBe(0);
    } finally {
      await server.close().catch(() => undefined);
    }
  });
});

describe("QueryClient", () => {
  it("talks to a running API and says clearly when none runs", async () => {
    const server = await startQueryServer({ store, port: 0 });
    try {
      const c = new QueryClient({ url: server.url });
      expect((await c.listTraces({ pod: "db" })).traces.map((t) => t.trace_id)).toEqual(["mid"]);
      expect(await c.getTrace("nope")).toBeNull();
      await expect(c.listTraces({ port: 0 })).rejects.toThrow("port must be an integer between 1 and 65535");
    } finally {
      await server.close();
    }
    const gone = new QueryClient({ url: server.url, timeoutMs: 2000 });
    const err = await gone.listTraces().catch((e: unknown) => e);
    expect(isApiUnreachableError(err)).toBe(true);
    expect((err as Error).message).toBe(`cannot reach the tcptrail API at ${server.url}: is \`tcptrail run\` running?`);
  });
});
