// traces --label through the query API: GET /api/v1/traces?label=k=v[,k=v]
// against a real SQLite store, with the traces hot and sealed into blocks
// (whose Bloom filters now hold label pairs), the live match, the client and
// a 400 for a bad selector.
import { join } from "node:path";
import Database from "better-sqlite3";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { v1, type Trace } from "../../src/model/mod.js";
import type { TraceJson } from "../../src/query/mod.js";
import { buildQueryApp } from "../../src/query/server/mod.js";
import { traceMatches } from "../../src/query/server/match.js";
import { SqliteTraceStore } from "../../src/store/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";
import { meshTrace } from "../store/fixtures.js";

const now = Date.now() * 1000;

/** A mesh trace whose endpoints in `pod` carry `labels`. */
function labelled(id: string, k: number, podA: string, labels: Record<string, string>): Trace {
  const t = v1.Trace.decode(v1.Trace.encode(meshTrace({ id, k, startUs: now - k * 1e6, podA, podB: "api" })).finish());
  for (const h of t.hops) for (const e of [h.client, h.server]) if (e?.pod === podA) e.labels = { ...labels };
  for (const h of t.hops) for (const e of [h.client, h.server]) if (e?.pod === "api") e.labels = { app: "api", tier: "back" };
  return t;
}

const traces = [
  labelled("web-1", 1, "web", { app: "web", tier: "front" }),
  labelled("web-2", 2, "web", { app: "web", tier: "front", track: "canary" }),
  labelled("cron-1", 3, "cron", { app: "cron" }),
  v1.Trace.decode(v1.Trace.encode(meshTrace({ id: "plain", k: 4, startUs: now - 4e6, podA: "x", podB: "y" })).finish()),
];

for (const mode of ["hot", "sealed"] as const) {
  describe(`GET /api/v1/traces?label= (${mode} traces)`, () => {
    let tmp: TempDir;
    let store: SqliteTraceStore;
    let app: FastifyInstance;

    beforeAll(async () => {
      tmp = await makeTempDir(`api-label-${mode}`);
      store = new SqliteTraceStore({ path: join(tmp.path, "t.db"), ...(mode === "sealed" ? { sealTraces: 2 } : {}) });
      for (const t of traces) await store.putTraces([t]);
      const db = new Database(store.path, { readonly: true });
      try {
        const blocks = (db.prepare("SELECT count(*) AS n FROM trace_blocks").get() as { n: number }).n;
        // The sealed run must really answer from blocks (and their Bloom filters).
        if (mode === "sealed") expect(blocks).toBeGreaterThanOrEqual(2);
        else expect(blocks).toBe(0);
      } finally {
        db.close();
      }
      app = await buildQueryApp({ store });
    });

    afterAll(async () => {
      await app?.close();
      await store?.close();
      await tmp?.remove();
    });

    const ids = async (query: string) => {
      const res = await app.inject({ method: "GET", url: `/api/v1/traces?${query}` });
      expect(res.statusCode, res.body).toBe(200);
      return (res.json() as { traces: TraceJson[] }).traces.map((t) => t.trace_id).sort();
    };

    it("lists the traces with an endpoint in a pod carrying every pair", async () => {
      expect(await ids("label=app%3Dweb")).toEqual(["web-1", "web-2"]);
      expect(await ids("label=app%3Dweb,track%3Dcanary")).toEqual(["web-2"]);
      expect(await ids("label=app%3Dapi")).toEqual(["cron-1", "web-1", "web-2"]);
      expect(await ids("label=app%3Dcron&pod=api")).toEqual(["cron-1"]);
    });

    it("needs the pairs on one pod, not spread over the trace's pods", async () => {
      expect(await ids("label=app%3Dweb,tier%3Dback")).toEqual([]);
    });

    it("answers 400 for a selector that is not key=value", async () => {
      const res = await app.inject({ method: "GET", url: "/api/v1/traces?label=app" });
      expect(res.statusCode).toBe(400);
      expect(res.body).toContain("label");
    });
  });
}

describe("the live trace match", () => {
  it("applies the same label condition to streamed traces", () => {
    const sel = [["app", "web"], ["track", "canary"]] as const;
    expect(traces.filter((t) => traceMatches(t, { labels: sel })).map((t) => t.traceId)).toEqual(["web-2"]);
    expect(traces.filter((t) => traceMatches(t, { labels: [] })).length).toBe(traces.length);
  });
});
