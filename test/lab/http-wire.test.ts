import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  formatTuple,
  hasFlag,
  parseHttpCapture,
  pooledUses,
  racedRequests,
  reduceHttpCapture,
  requestIdOf,
  unclosedConnections,
  type HttpSegment,
  type HttpWireOptions,
} from "../../src/lab/mod.js";
import { raceResetReason } from "../../src/lab/scenarios/pooled-expect.js";

// tcpdump -A captures (HTTP_CAPTURE_FILTER) of pods a and b recorded from real lab runs (prefix tx-).
interface HttpFixture {
  wire: HttpWireOptions;
  capture: Record<string, string>;
}
const load = (name: string): HttpFixture =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), "utf8")) as HttpFixture;
const pooled = load("http-pooled");
const race = load("http-keepalive-race");

describe("parseHttpCapture", () => {
  it("reads the request line (with the lab's id) and the status of the segments that start them", () => {
    const segs = parseHttpCapture("tx-a", pooled.capture["tx-a"] ?? "");
    const headerLines = (pooled.capture["tx-a"] ?? "").split("\n").filter((l) => / (In|Out) +IP /.test(l));
    expect(segs).toHaveLength(headerLines.length);
    const requests = segs.filter((s) => s.request);
    const statuses = segs.filter((s) => s.status !== undefined);
    // 8 requests: seen on lo twice (out and in copies) and once on eth0 (sent); likewise the 200s.
    expect(new Set(requests.map((s) => s.request!.id)).size).toBe(8);
    expect(requests.filter((s) => s.iface === "eth0")).toHaveLength(8);
    expect(statuses.filter((s) => s.iface === "eth0").map((s) => s.status)).toEqual(Array(8).fill(200));
    expect(segs.filter((s) => s.request && s.status !== undefined)).toEqual([]);
    expect(requests[0]!.request!.path).toMatch(/^\/ka\?idle=300&id=/);
  });

  it("reads no request out of the header bytes of a segment without payload", () => {
    const text = "1.000001 eth0  Out IP 10.0.0.2.5 > 10.0.0.3.80: Flags [F.], seq 1, ack 1, length 0\nE..4..@.@.GET\n";
    expect(parseHttpCapture("p", text)[0]?.request).toBeUndefined();
  });
});

describe("requestIdOf", () => {
  it("takes the id query parameter", () => {
    expect(requestIdOf("/ka?idle=300&id=p-7")).toBe("p-7");
    expect(requestIdOf("/ka?idle=300")).toBeNull();
    expect(requestIdOf("/ok")).toBeNull();
  });
});

describe("pooledUses", () => {
  it("maps every client connection to the one upstream that carried its two requests, and to the app's passthrough", () => {
    const uses = pooledUses(reduceHttpCapture(pooled.capture), pooled.wire);
    expect(uses).toHaveLength(4);
    expect(new Set(uses.map((u) => formatTuple(u.client))).size).toBe(4);
    expect(new Set(uses.map((u) => formatTuple(u.upstream))).size).toBe(1);
    for (const u of uses) {
      expect(u.client.dst).toEqual({ ip: "127.0.0.1", port: 15001 });
      expect(u.upstream.dst.port).toBe(8080);
      expect(u.passthrough?.src.ip).toBe("127.0.0.6");
      expect(u.requests).toBe(2);
    }
    // In the order the client sent them: ids 0,1 on the first connection, 2,3 on the second...
    expect(uses.map((u) => u.requestIds.map((id) => id.split("-").pop()))).toEqual([["0", "1"], ["2", "3"], ["4", "5"], ["6", "7"]]);
  });

  it("tells upstreams apart: after the app's idle close the next request opens a new one", () => {
    // Recorded: request 0's upstream was idle-closed before request 1 went out; 1 and 2 shared one (2 met its close); 3 opened another.
    const uses = pooledUses(reduceHttpCapture(race.capture), race.wire);
    const byUpstream = new Map<string, string[]>();
    for (const u of uses) byUpstream.set(formatTuple(u.upstream), [...(byUpstream.get(formatTuple(u.upstream)) ?? []), ...u.requestIds]);
    expect([...byUpstream.values()].map((ids) => ids.map((id) => id.split("-").pop()))).toEqual([["0"], ["1", "2"], ["3"]]);
  });
});

describe("racedRequests", () => {
  it("finds no race where every request was answered (pooled)", () => {
    expect(racedRequests(reduceHttpCapture(pooled.capture), pooled.wire)).toEqual([]);
  });

  it("finds the request that met the app's idle close, with the FIN and RST times of both wires", () => {
    const raced = racedRequests(reduceHttpCapture(race.capture), race.wire);
    expect(raced.map((r) => r.id.split("-").pop())).toEqual(["2"]);
    const r = raced[0]!;
    expect(r.client?.dst.port).toBe(15001);
    expect(r.upstream.dst.port).toBe(8080);
    expect(r.passthrough?.src.ip).toBe("127.0.0.6");
    // App b closed before the request reached it, its kernel reset the request, sidecar b passed the close on.
    expect(r.appFinUs).toBeLessThan(r.requestAtAppUs!);
    expect(r.appRstUs).toBeGreaterThan(r.requestAtAppUs!);
    expect(r.upstreamFinUs).toBeDefined();
    expect(r.idleUs! / 1000).toBeGreaterThanOrEqual(100);
    expect(r.idleUs! / 1000).toBeLessThan(150);
    expect(raceResetReason(r)).toBe("TCP_ABORT_ON_DATA");
  });

  it("needs the peer's close: an unanswered request whose upstream only the client sidecar closed is no race", () => {
    const segs = reduceHttpCapture(race.capture);
    const raced = racedRequests(segs, race.wire)[0]!;
    const fromPeer = (s: HttpSegment): boolean => s.src.port === raced.upstream.dst.port && s.dst.port === raced.upstream.src.port;
    const withoutPeerClose = segs.filter((s) => !(fromPeer(s) && (hasFlag(s, "FIN") || hasFlag(s, "RST"))));
    expect(racedRequests(withoutPeerClose, race.wire)).toEqual([]);
  });

  it("is no race when an answer came back after the request", () => {
    const segs = reduceHttpCapture(race.capture);
    const raced = racedRequests(segs, race.wire)[0]!;
    const answer: HttpSegment = { netns: "tx-b", iface: "eth0", direction: "out", src: raced.upstream.dst, dst: raced.upstream.src, flags: ["PSH", "ACK"], seq: 1, tsUs: raced.requestUs + 50, status: 200 };
    expect(racedRequests([...segs, answer].sort((x, y) => x.tsUs - y.tsUs), race.wire)).toEqual([]);
  });
});

describe("raceResetReason", () => {
  it("names the kernel's reason by the order on the app's wire", () => {
    expect(raceResetReason({ appFinUs: 10, requestAtAppUs: 20 })).toBe("TCP_ABORT_ON_DATA");
    expect(raceResetReason({ requestAtAppUs: 20 })).toBe("TCP_ABORT_ON_CLOSE");
    expect(raceResetReason({ appFinUs: 30, requestAtAppUs: 20 })).toBeUndefined();
  });
});

describe("unclosedConnections", () => {
  it("is empty once every connection that carried a request is closed on the wire", () => {
    expect(unclosedConnections(reduceHttpCapture(pooled.capture), pooled.wire)).toEqual([]);
  });

  it("names the connections still open: the race fixture is cut 20 ms after request 3, before its upstream's idle close", () => {
    const segs = reduceHttpCapture(race.capture);
    const last = pooledUses(segs, race.wire).at(-1)!;
    expect(last.requestIds.map((id) => id.split("-").pop())).toEqual(["3"]);
    expect(unclosedConnections(segs, race.wire).map(formatTuple).sort()).toEqual([formatTuple(last.upstream), formatTuple(last.passthrough!)].sort());
  });

  it("names a connection whose FIN in one direction is not yet captured, the client's own through the REDIRECT included", () => {
    const segs = reduceHttpCapture(pooled.capture);
    const use = pooledUses(segs, pooled.wire)[0]!;
    // The listener's FIN to the client carries the original destination as its source (reverse NAT).
    const listenerFin = (s: HttpSegment): boolean => s.iface === "lo" && hasFlag(s, "FIN") && s.dst.port === use.client.src.port && s.dst.ip === use.client.src.ip;
    expect(segs.filter(listenerFin)).toHaveLength(1);
    expect(unclosedConnections(segs.filter((s) => !listenerFin(s)), pooled.wire).map(formatTuple)).toEqual([formatTuple(use.client)]);
    const upstreamFinFromClient = (s: HttpSegment): boolean => hasFlag(s, "FIN") && s.src.port === use.upstream.src.port && s.iface === "eth0";
    expect(unclosedConnections(segs.filter((s) => !upstreamFinFromClient(s)), pooled.wire).map(formatTuple)).toEqual([formatTuple(use.upstream)]);
  });
});
