// Fuzzing the query API's parameters: whatever a client puts in a query
// string, the answer is a result or a 400 whose message names the parameter,
// never a 500. Most cases go to the parse functions and the real store
// directly (what a route does after fastify's schema check); a smaller
// number go through fastify's inject() on the real app, schema and all.
import { join } from "node:path";
import fc from "fast-check";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { isInvalidArgumentError } from "../../src/errors/mod.js";
import { Outcome, Role, kindName, outcomeName, roleName } from "../../src/model/mod.js";
import { buildQueryApp } from "../../src/query/server/mod.js";
import { parseEventStream, parseTimeline, parseTraceList, parseTraceStream } from "../../src/query/server/params.js";
import { MAX_LIST_LIMIT, SqliteTraceStore, isBadQueryError } from "../../src/store/mod.js";
import { isInvalidTimeError, parseTimeUs } from "../../src/timefmt/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";
import { A, B, NODE, meshTrace, stateEvent } from "../store/fixtures.js";
import { CaseCount, fuzzParams, withinHangLimit } from "./budget.js";

const count = new CaseCount();
const NOW_US = Date.UTC(2026, 10, 21, 10, 0, 0) * 1_000;

const names = (e: Record<string, string | number>, name: (v: number) => string): string[] =>
  Object.values(e)
    .filter((v): v is number => typeof v === "number" && v !== 0)
    .map((v) => name(v));

// Values people (and scripts, and attackers) put in each parameter: the
// grammar's own forms at their edges, near misses, and anything.
const anyText = fc.oneof(fc.string({ maxLength: 30 }), fc.string({ unit: "binary", maxLength: 30 }));
const digits = fc.oneof(fc.nat().map(String), fc.stringMatching(/^[0-9]{1,25}$/));
const duration = fc
  .array(fc.tuple(fc.oneof(digits, fc.tuple(digits, digits).map(([a, b]) => `${a}.${b}`)), fc.constantFrom("d", "h", "m", "s", "ms", "us", "µs", "x", "")), { minLength: 1, maxLength: 4 })
  .map((parts) => parts.map(([n, u]) => n + u).join(""));
const rfc3339 = fc
  .tuple(
    fc.integer({ min: 0, max: 99999 }),
    fc.integer({ min: 0, max: 13 }),
    fc.integer({ min: 0, max: 32 }),
    fc.integer({ min: 0, max: 25 }),
    fc.integer({ min: 0, max: 61 }),
    fc.integer({ min: 0, max: 61 }),
    fc.option(fc.stringMatching(/^[0-9]{1,12}$/), { nil: undefined }),
    fc.constantFrom("Z", "z", "+00:00", "-23:59", "+24:00", "+02:60", ""),
    fc.constantFrom("T", "t", " ", "_"),
  )
  .map(([y, mo, d, h, mi, s, frac, zone, sep]) => {
    const p = (n: number, w = 2) => String(n).padStart(w, "0");
    return `${p(y, 4)}-${p(mo)}-${p(d)}${sep}${p(h)}:${p(mi)}:${p(s)}${frac !== undefined ? `.${frac}` : ""}${zone}`;
  });
const timeValue = fc.oneof(duration, rfc3339, digits, fc.constantFrom("now", " now ", "-5m", "1e3", "Infinity", "0"), anyText);
const listOf = (words: string[]) =>
  fc.array(fc.oneof(fc.constantFrom(...words), fc.constantFrom(...words).map((w) => w.toLowerCase().replace(/_/g, "-")), anyText), { minLength: 1, maxLength: 4 }).map((l) => l.join(","));
const ipValue = fc.oneof(fc.ipV4(), fc.ipV6(), fc.constantFrom("::ffff:10.0.0.1", "256.1.1.1", "1.2.3", "fe80::1%eth0"), anyText);
const socketValue = fc.oneof(
  fc.tuple(anyText, fc.stringMatching(/^[0-9a-f]{0,20}$/), digits).map(([n, s, b]) => `${n}/${s}/${b}`),
  fc.constantFrom(`${NODE}/s1/1`, "a/b", "//", "a/b/c/d"),
  anyText,
);
const cursorValue = fc.oneof(
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v) ?? "").toString("base64url")),
  fc.tuple(fc.oneof(fc.integer(), fc.double()), anyText).map((v) => Buffer.from(JSON.stringify(v)).toString("base64url")),
  anyText,
);
const outcomes = listOf(names(Outcome as never, outcomeName));
const role = fc.oneof(fc.constantFrom(...names(Role as never, roleName)), anyText);
const kinds = listOf(Array.from({ length: 10 }, (_, i) => kindName(i + 1)));
const port = fc.integer({ min: 1, max: 65535 });
const limit = (max: number) => fc.integer({ min: 1, max });

const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 2 });
// What fastify's schema lets through (types, lengths, ranges): the parse functions' input.
const clip = (max: number) => (s: string) => s.slice(0, max) || "x";
const traceListQuery = fc.record({
  since: opt(timeValue.map(clip(64))),
  until: opt(timeValue.map(clip(64))),
  pod: opt(anyText.map(clip(253))),
  ip: opt(ipValue.map(clip(45))),
  port: opt(port),
  outcome: opt(outcomes.map(clip(256))),
  role: opt(role.map(clip(16))),
  limit: opt(limit(MAX_LIST_LIMIT)),
  cursor: opt(cursorValue.map(clip(512))),
});
const timelineQuery = fc.record({
  trace: opt(anyText.map(clip(256))),
  socket: opt(socketValue.map(clip(512))),
  ip: opt(ipValue.map(clip(45))),
  port: opt(port),
  since: opt(timeValue.map(clip(64))),
  until: opt(timeValue.map(clip(64))),
  limit: opt(limit(10_000)),
});
const eventStreamQuery = fc.record({
  node: opt(anyText.map(clip(253))),
  pod: opt(anyText.map(clip(253))),
  ip: opt(ipValue.map(clip(45))),
  port: opt(port),
  kind: opt(kinds.map(clip(256))),
});

/** A rejection a client caused: an argument error naming the parameter, which the API answers with 400. */
function expectClientError(e: unknown, params: readonly string[]): void {
  if (isBadQueryError(e)) {
    if (!params.includes(e.param)) throw new Error(`BadQueryError names ${e.param}, not a parameter of this query`);
    return;
  }
  if (!isInvalidArgumentError(e)) throw e;
  if (!params.includes(e.property)) throw new Error(`${e.message}: names ${e.property}, not a parameter of this query`);
  if (!e.message.includes(e.property)) throw new Error(`"${e.message}" does not name ${e.property}`);
}

let tmp: TempDir;
let store: SqliteTraceStore;
let app: FastifyInstance;

beforeAll(async () => {
  tmp = await makeTempDir("fuzz-query");
  store = new SqliteTraceStore({ path: join(tmp.path, "t.db") });
  const now = NOW_US;
  await store.putTraces([
    meshTrace({ id: "old", k: 1, startUs: now - 2 * 3600e6, podA: "web", podB: "api" }),
    meshTrace({ id: "new", k: 3, startUs: now - 1e6, podA: "cron", podB: "api", originRole: Role.ROLE_SIDECAR }),
  ]);
  await store.putEvents({ node: NODE, bootId: "b", agentStartUs: 1 }, [stateEvent({ sock: "s1", tNs: now * 1000, local: [A, 41000], remote: [B, 8080], from: 7, to: 2 })]);
  app = await buildQueryApp({ store });
});

afterAll(async () => {
  await app?.close();
  store?.close();
  await tmp?.remove();
});

describe("query parameters under fuzzing", () => {
  test("the time grammar: a time or an InvalidTimeError naming the parameter", () => {
    fc.assert(
      fc.property(fc.oneof(timeValue, fc.string({ unit: "binary", maxLength: 200 })), (text) => {
        count.add();
        try {
          const us = withinHangLimit(
            () => `parsing ${JSON.stringify(text)}`,
            () => parseTimeUs(text, { option: "since", nowUs: NOW_US }),
          );
          if (!Number.isFinite(us)) throw new Error(`${JSON.stringify(text)} is ${us} µs`);
        } catch (e) {
          if (!isInvalidTimeError(e) || !e.message.startsWith("since must be ")) throw e;
        }
      }),
      fuzzParams(50_000),
    );
  });

  test("trace lists: a filter the store answers, or a client error naming the parameter", async () => {
    const params = ["since", "until", "pod", "ip", "port", "outcome", "role", "limit", "cursor"];
    await fc.assert(
      fc.asyncProperty(traceListQuery, async (q) => {
        count.add();
        try {
          await store.listTraces(parseTraceList(q, NOW_US));
        } catch (e) {
          expectClientError(e, params);
        }
      }),
      fuzzParams(18_000),
    );
  });

  test("timelines: a query the store answers, or a client error naming the parameter", async () => {
    const params = ["trace", "socket", "ip", "port", "since", "until", "limit"];
    await fc.assert(
      fc.asyncProperty(timelineQuery, async (q) => {
        count.add();
        try {
          await store.timeline(parseTimeline(q, NOW_US));
        } catch (e) {
          expectClientError(e, params);
        }
      }),
      fuzzParams(15_000),
    );
  });

  test("live stream filters: a filter, or a client error naming the parameter", () => {
    fc.assert(
      fc.property(traceListQuery, eventStreamQuery, (tq, eq) => {
        count.add(2);
        try {
          parseTraceStream(tq);
        } catch (e) {
          expectClientError(e, ["pod", "ip", "port", "outcome", "role"]);
        }
        try {
          parseEventStream(eq);
        } catch (e) {
          expectClientError(e, ["node", "pod", "ip", "port", "kind"]);
        }
      }),
      fuzzParams(8_000),
    );
  });

  // Through the real app: fastify's query-string parser and the JSON schemas
  // see raw text (repeated keys, bad percent escapes, unknown names, numbers
  // that are not numbers), and the error handler turns failures into answers.
  test("raw query strings through the HTTP API: 200, 400 or 404, never a 500", async () => {
    const key = fc.oneof(
      fc.constantFrom("since", "until", "pod", "node", "ip", "port", "outcome", "role", "kind", "cursor", "trace", "socket", "limit"),
      fc.string({ unit: "grapheme-ascii", maxLength: 8 }),
    );
    const rawValue = fc.oneof(
      timeValue,
      ipValue,
      cursorValue,
      socketValue,
      outcomes,
      fc.oneof(digits, fc.integer().map(String), fc.double().map(String)),
      fc.constantFrom("%", "%zz", "%ff%fe", "%00", "a&b", "=", "[]", "%E2%80%AE"),
    );
    const pair = fc.tuple(key, rawValue, fc.boolean()).map(([k, v, encode]) => `${encodeURIComponent(k)}=${encode ? encodeURIComponent(v) : v.replace(/[#\s]/g, "")}`);
    const request = fc.tuple(
      fc.constantFrom("/api/v1/traces", "/api/v1/timeline", "/api/v1/traces/"),
      fc.oneof(fc.constant(""), anyText.map(encodeURIComponent)),
      fc.array(pair, { maxLength: 6 }),
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(request, async ([path, id, pairs]) => {
        count.add();
        const url = `${path}${path.endsWith("/") ? id || "x" : ""}${pairs.length ? `?${pairs.join("&")}` : ""}`;
        const res = await app.inject({ method: "GET", url });
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (![200, 400, 404].includes(res.statusCode)) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
        if (res.statusCode === 400) {
          const body = res.json() as { error?: string; message?: string };
          if (!body.error || !body.message) throw new Error(`${url}: a 400 without a reason: ${res.body}`);
        }
      }),
      fuzzParams(4_000),
    );
    // Both answers were reached: the property is not vacuous.
    expect(statuses.get(200)).toBeGreaterThan(0);
    expect(statuses.get(400)).toBeGreaterThan(0);
  });

  test(`the parameters saw at least the budget of generated queries`, () => {
    count.expectBudgetSpent();
  });
});
