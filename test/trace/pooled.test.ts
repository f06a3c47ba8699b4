// Pooled upstreams (issue 10): a sidecar's upstream connection reused for one
// downstream connection after another, linked by SOCKET_LINK events. Each
// downstream's trace holds the pooled connection (and the hops behind it) as
// shared hops with its interval of use; the keep-alive race on such a
// connection is told as UPSTREAM_IDLE_CLOSE_RACE; TCP-mode link lines change nothing.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AlertEngine } from "../../src/alert/mod.js";
import { EventKind, Outcome, ResetReason, TcpState, formatEndpoint, v1, type Trace } from "../../src/model/mod.js";
import { loadFixture, type FixtureRecord } from "./helpers/load-fixture.js";
import type { Rec, Sock } from "./helpers/mesh-lab.js";
import { accept, done, pooledLab, reuse, scenarioKeepaliveRace, scenarioPooled } from "./helpers/pooled.js";
import { SCENARIOS, abort, appA, appB, finFirst, finSecond, proxyA, proxyB } from "./helpers/scenarios.js";
import { stitch, toFixture } from "./helpers/stitch.js";

const O = Outcome;
const C = v1.LinkConfidence;
const MS = 1_000_000;

const route = (t: Trace) => t.hops.map((h) => `${formatEndpoint(h.client)}>${formatEndpoint(h.server)}`);
const rootPort = (t: Trace) => t.hops[0]!.client!.port;
const byPort = (traces: Trace[], port: number) => {
  const t = traces.find((x) => rootPort(x) === port);
  expect(t, `trace of app A's port ${port}`).toBeDefined();
  return t!;
};
const POOLED_ROUTE = (port: number) => [`10.88.0.2:${port}>127.0.0.1:15001`, "10.88.0.2:41002>10.88.0.3:15006", "127.0.0.6:41003>10.88.0.3:8080"];

/** Kernel ns and wall µs of the one record that `pick` selects. */
function at(recs: readonly Rec[], pick: (e: Record<string, unknown>) => boolean): { ns: number; us: number } {
  const found = recs.filter((r) => pick(r.event));
  expect(found).toHaveLength(1);
  return { ns: found[0]!.event.tsNs as number, us: found[0]!.event.timeUs as number };
}
const linkOf = (s: Sock, from: Sock) => (e: Record<string, unknown>) => e.kind === "SOCKET_LINK" && e.sock === s.id && e.linkedSock === from.id;
const stateOf = (s: Sock, to: string) => (e: Record<string, unknown>) => e.kind === "STATE_CHANGE" && e.sock === s.id && e.newState === to;
const closeOf = (s: Sock) => (e: Record<string, unknown>) => e.kind === "STATE_CHANGE" && e.sock === s.id && e.newState === "CLOSE";

describe("pooled upstream: shared hops", () => {
  it("U serving D1, D2, D3 in turn: each trace has U's hop and the peer's hops, once, with its own interval of use", () => {
    const p = scenarioPooled();
    const { traces, stitcher } = stitch(p.lab.records);
    expect(stitcher.stats().malformed).toBe(0);
    expect(stitcher.stats().sharedLinks).toBe(2);
    expect(stitcher.stats().ambiguousLinks).toBe(0);
    expect(traces).toHaveLength(3);
    const [d1, d2, d3] = p.downs;
    const { s3 } = p.chain;
    for (const x of [d1!, d2!, d3!]) {
      const t = byPort(traces, x.c.local.port);
      expect(route(t)).toEqual(POOLED_ROUTE(x.c.local.port));
      // The trace stays the downstream's: rooted at its client, id from it.
      expect(t.hops[0]!.client!.port).toBe(x.c.local.port);
      expect(t.hops[0]!.shared).toBe(false);
      expect(t.hops.slice(1).map((h) => h.shared)).toEqual([true, true]);
      expect(t.hops.slice(1).map((h) => h.linkConfidence)).toEqual([C.LINK_CONFIDENCE_CERTAIN, C.LINK_CONFIDENCE_CERTAIN]);
      expect(t.hops[1]!.client!.socketId).toContain(s3.id);
      expect(t.outcome).toBe(O.OUTCOME_COMPLETED);
      expect(t.endUs).toBeGreaterThan(0);
      expect(t.explanation).toMatch(/^App node \(pid 812, lab\/tt-a\) → sidecar tt-a → sidecar tt-b → app node \(pid 913, lab\/tt-b\) completed; app tt-a closed first/);
      expect(t.explanation).not.toMatch(/ambiguous|pooled/);
    }
    // The intervals: D1 from U's start to D2's link, D2 from its link to D3's, D3 from its link to its close.
    const r = p.lab.records;
    const link2 = at(r, linkOf(s3, d2!.d)).us;
    const link3 = at(r, linkOf(s3, d3!.d)).us;
    const uses = [d1!, d2!, d3!].map((x) => byPort(traces, x.c.local.port).hops[1]!).map((h) => [h.useStartUs, h.useEndUs]);
    expect(uses[0]).toEqual([at(r, stateOf(s3, "SYN_SENT")).us, at(r, closeOf(d1!.d)).us]);
    expect(uses[1]).toEqual([link2, at(r, closeOf(d2!.d)).us]);
    expect(uses[2]).toEqual([link3, at(r, closeOf(d3!.d)).us]);
    // U closed long after D3: that is the pool's, in nobody's use, so D2's and D3's shared hops are open (and their traces are not).
    expect(byPort(traces, d2!.c.local.port).hops[1]!.outcome).toBe(O.OUTCOME_OPEN);
    // D1's trace is U's own: it waits for U to end, as without pooling, and shows U once.
    const t1 = byPort(traces, d1!.c.local.port);
    expect(t1.hops.filter((h) => h.client!.socketId === t1.hops[1]!.client!.socketId)).toHaveLength(1);
    expect(new Set(traces.map((t) => t.traceId)).size).toBe(3);
  });

  it("a downstream's trace is emitted at its own close, with the pooled hop as of then", () => {
    const p = pooledLab();
    done(p, p.downs[0]!);
    p.lab.wait("lab", 1000 * MS);
    const d2 = reuse(p, 41101);
    // Nothing closes U: D1's trace (U's own) waits for it; D2's does not.
    const { traces } = stitch(p.lab.records);
    expect(traces.map(rootPort)).toEqual([d2.c.local.port]);
    expect(traces[0]!.hops[1]!.shared).toBe(true);
    expect(traces[0]!.outcome).toBe(O.OUTCOME_COMPLETED);
  });

  it("the connection's own trace marks it shared once another downstream used it, and only then", () => {
    const alone = pooledLab();
    done(alone, alone.downs[0]!);
    // U stays open and unshared: its trace comes out on drain, as before, with no shared hop.
    const { stitcher, traces } = stitch(alone.lab.records, {}, 8, false);
    stitcher.drain();
    expect(traces).toHaveLength(1);
    expect(traces[0]!.hops.map((h) => h.shared)).toEqual([false, false, false]);
    expect(traces[0]!.hops.map((h) => h.linkConfidence)).toEqual([0, 0, 0]);
    const t1 = byPort(stitch(scenarioPooled().lab.records).traces, 41001);
    expect(t1.hops.map((h) => h.shared)).toEqual([false, true, true]);
  });

  it("an event loop that read two sources before the send: AMBIGUOUS, said in the trace", () => {
    const p = pooledLab();
    done(p, p.downs[0]!);
    p.lab.wait("lab", 1000 * MS);
    const d2 = reuse(p, 41101, { sources: 2 });
    p.lab.wait("lab", 1000 * MS);
    const d3 = reuse(p, 41201);
    const { traces, stitcher } = stitch(p.lab.records);
    expect(stitcher.stats().ambiguousLinks).toBe(1);
    const t2 = byPort(traces, d2.c.local.port);
    expect(t2.hops.slice(1).map((h) => h.linkConfidence)).toEqual([C.LINK_CONFIDENCE_AMBIGUOUS, C.LINK_CONFIDENCE_AMBIGUOUS]);
    expect(t2.explanation).toContain("the link of this trace to the shared connection on hop 2 is ambiguous");
    expect(byPort(traces, d3.c.local.port).hops[1]!.linkConfidence).toBe(C.LINK_CONFIDENCE_CERTAIN);
  });

  it("two downstreams active on one connection at once (the first unanswered): both AMBIGUOUS, never silently certain", () => {
    const p = pooledLab();
    done(p, p.downs[0]!);
    p.lab.wait("lab", 1000 * MS);
    const { s3 } = p.chain;
    const d2 = accept(p, 41101);
    const d3 = accept(p, 41201);
    p.lab.link(s3, d2.d, proxyA);
    p.lab.link(s3, d3.d, proxyA);
    p.lab.link(d3.d, s3, proxyA);
    done(p, d2);
    done(p, d3);
    const { traces } = stitch(p.lab.records);
    for (const x of [d2, d3]) expect(byPort(traces, x.c.local.port).hops[1]!.linkConfidence).toBe(C.LINK_CONFIDENCE_AMBIGUOUS);
  });

  it("request and response links that name different connections: AMBIGUOUS, the first kept", () => {
    const p = pooledLab();
    done(p, p.downs[0]!);
    p.lab.wait("lab", 1000 * MS);
    const { s3 } = p.chain;
    const d2 = accept(p, 41101);
    p.lab.link(s3, d2.d, proxyA);
    // A second upstream of sidecar A, dialed for nobody, "answers" D2.
    const u2 = p.lab.sock(p.A, { ip: p.A.ip, port: 41900 }, { ip: p.B.ip, port: 8080 }, { uid: 1337, role: "SIDECAR", leg: "UPSTREAM" });
    p.lab.state(u2, "SYN_SENT", { localPort: 0 });
    p.lab.state(u2, "ESTABLISHED");
    p.lab.link(d2.d, u2, proxyA);
    done(p, d2);
    const t2 = byPort(stitch(p.lab.records).traces, d2.c.local.port);
    expect(t2.hops[1]!.client!.socketId).toContain(s3.id);
    expect(t2.hops[1]!.linkConfidence).toBe(C.LINK_CONFIDENCE_AMBIGUOUS);
  });

  it("a shared hop outlives its own trace until every downstream that used it is emitted, then frees", () => {
    let now = 1_000_000;
    const { p } = scenarioKeepaliveRace();
    // Linger 0: a dead socket is unmapped (and freed once emitted) at once, so U's own trace, emitted
    // first (U died first), would free the hops D3's trace still reads, were they not held.
    const { traces, stitcher } = stitch(p.lab.records, { lingerMs: 0, clock: () => now });
    const t3 = byPort(traces, 41201);
    expect(route(t3)).toEqual(POOLED_ROUTE(41201));
    expect(t3.hops[1]!.client!.socketId).toContain(p.chain.s3.id);
    expect(t3.outcome).toBe(O.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE);
    now += 3_600_000;
    stitcher.tick(now);
    expect(stitcher.stats().trackedSlots).toBe(0);
  });
});

describe("the keep-alive race", () => {
  function raced(idleMs = 2000, gapUs = 150, opts = {}) {
    const { p, d3 } = scenarioKeepaliveRace(idleMs, gapUs);
    const { traces } = stitch(p.lab.records, opts);
    return { p, d3, traces, t: byPort(traces, d3.c.local.port) };
  }

  it("D3's request on U after U's CLOSE_WAIT, a RST received: UPSTREAM_IDLE_CLOSE_RACE with idle, gap, reason and who closed first", () => {
    const { p, d3, t, traces } = raced(2000, 150);
    const r = p.lab.records;
    const { s3, s6 } = p.chain;
    // The peer's close is app B's FIN (its idle close), behind sidecar B: U sees it later, relayed.
    const tFin = at(r, stateOf(s6, "FIN_WAIT1")).ns;
    const tReuse = at(r, linkOf(s3, d3.d)).ns;
    const lastUse = at(r, linkOf(p.downs[1]!.d, s3)).ns;
    const idleUs = (tFin - lastUse) / 1000;
    const gapUs = (tReuse - tFin) / 1000;
    expect(gapUs).toBeGreaterThanOrEqual(150);
    expect(t.outcome).toBe(O.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE);
    expect(route(t)).toEqual(POOLED_ROUTE(d3.c.local.port));
    expect(t.race!.idleUs).toBe(idleUs);
    expect(t.race!.gapUs).toBe(gapUs);
    expect(t.race!.resetReason).toBe(ResetReason.RESET_REASON_TCP_ABORT_ON_DATA);
    expect(t.race!.sharedHop).toBe(2);
    // The FIN's origin, followed through sidecar B: app B on hop 3.
    expect([t.race!.firstCloseHop, t.race!.firstCloseBy]).toEqual([3, "server"]);
    expect(t.resetOriginHop).toBe(3);
    expect(t.resetOrigin!.socketId).toContain(s6.id);
    const idle = `${(idleUs / 1e6).toFixed(1)} s`;
    expect(t.explanation).toBe(
      `App tt-b closed its idle keep-alive connection (idle ${idle}) ${gapUs} µs before sidecar tt-a reused it for a request from app tt-a; ` +
        `the kernel of lab/tt-b answered with a RST (kernel reason TCP_ABORT_ON_DATA); sidecar tt-a returned an error to app tt-a (a RST on hop 1).`,
    );
    // Only D3 met it: D1 (U's own trace) and D2 used U before the peer closed it.
    expect(traces.filter((x) => x.outcome === O.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE)).toHaveLength(1);
    expect(byPort(traces, 41101).outcome).toBe(O.OUTCOME_COMPLETED);
    expect(byPort(traces, 41001).outcome).toBe(O.OUTCOME_COMPLETED);
  });

  it("a FIN that crosses the request within the window: a race with a negative gap; outside the window: not a race", () => {
    const { p, d3, t } = raced(2000, -40);
    const tFin = at(p.lab.records, stateOf(p.chain.s6, "FIN_WAIT1")).ns;
    const tReuse = at(p.lab.records, linkOf(p.chain.s3, d3.d)).ns;
    expect(tReuse).toBeLessThan(tFin);
    expect(t.outcome).toBe(O.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE);
    expect(t.race!.gapUs).toBe((tReuse - tFin) / 1000);
    expect(t.explanation).toContain(`${(tFin - tReuse) / 1000} µs after sidecar tt-a reused it for a request from app tt-a (its FIN and the request crossed)`);
    const narrow = raced(2000, -40, { raceCrossingWindowMs: 0.01 }).t;
    expect(narrow.outcome).not.toBe(O.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE);
    expect(narrow.race).toBeNull();
  });

  // What the lab's TCP-mode peer sidecar shows: the app's close never reaches U as
  // a RST (sidecar B relays it as a FIN), and an app that closes with the request
  // unread sends a RST (TCP_ABORT_ON_CLOSE) and no FIN at all.
  it("app B closing with the request unread (its close a RST, relayed to U as a FIN): the race, said so", () => {
    const p = pooledLab();
    p.lab.wait("lab", 1 * MS);
    done(p, p.downs[0]!);
    p.lab.wait("lab", 1000 * MS);
    reuse(p, 41101);
    p.lab.wait("lab", 2000 * MS);
    const { s3, s4, s5, s6 } = p.chain;
    const d3 = accept(p, 41201);
    p.lab.link(s3, d3.d, proxyA);
    p.lab.wait("lab", 40_000);
    abort(p.lab, s6, s5, "TCP_ABORT_ON_CLOSE", appB);
    finFirst(p.lab, s4, s3, proxyB);
    finFirst(p.lab, d3.d, d3.c, proxyA);
    finSecond(p.lab, d3.c, d3.d, appA);
    finSecond(p.lab, s3, s4, proxyA);
    const r = p.lab.records;
    const { traces } = stitch(r);
    const t = byPort(traces, d3.c.local.port);
    const tReuse = at(r, linkOf(s3, d3.d)).ns;
    const tClose = at(r, (e) => e.kind === "RESET_SENT" && e.sock === s6.id).ns;
    expect(t.outcome).toBe(O.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE);
    expect(t.race!.gapUs).toBe((tReuse - tClose) / 1000);
    expect(t.race!.gapUs).toBeLessThan(0);
    expect(t.race!.resetReason).toBe(ResetReason.RESET_REASON_TCP_ABORT_ON_CLOSE);
    expect([t.race!.firstCloseHop, t.race!.firstCloseBy]).toEqual([3, "server"]);
    expect(t.explanation).toContain(`${(tClose - tReuse) / 1000} µs after sidecar tt-a reused it for a request from app tt-a (the request reached it unread, so its close was a RST)`);
    expect(t.explanation).toContain("answered with a RST (kernel reason TCP_ABORT_ON_CLOSE)");
    expect(t.explanation).toContain("returned an error to app tt-a (a FIN on hop 1)");
    expect(traces.filter((x) => x.outcome === O.OUTCOME_UPSTREAM_IDLE_CLOSE_RACE)).toHaveLength(1);
  });

  it("no false race on a pooled stream without FIN-before-reuse", () => {
    const { traces } = stitch(scenarioPooled().lab.records);
    expect(traces.map((t) => t.outcome)).toEqual([O.OUTCOME_COMPLETED, O.OUTCOME_COMPLETED, O.OUTCOME_COMPLETED]);
    expect(traces.every((t) => !t.race)).toBe(true);
    // Not for lack of seeing the pooled connection: every trace holds it, and its FIN (after the last use) in D1's.
    expect(traces.every((t) => t.hops[1]!.shared)).toBe(true);
  });

  it("no race when the sidecar closed the pooled connection itself first (its idle timeout), even if a RST follows", () => {
    const p = pooledLab();
    done(p, p.downs[0]!);
    p.lab.wait("lab", 1000 * MS);
    const { s3, s4 } = p.chain;
    const d2 = accept(p, 41101);
    p.lab.link(s3, d2.d, proxyA);
    p.lab.syscall(s3, "CLOSE", proxyA);
    p.lab.state(s3, "FIN_WAIT1");
    p.lab.state(s4, "CLOSE_WAIT");
    p.lab.state(s3, "FIN_WAIT2");
    p.lab.resetSent(s4, "TCP_ABORT_ON_CLOSE");
    p.lab.state(s4, "CLOSE");
    p.lab.resetReceived(s3);
    p.lab.state(s3, "CLOSE");
    done(p, d2);
    const t = byPort(stitch(p.lab.records).traces, d2.c.local.port);
    // The pooled hop and its RST are in D2's trace: a reset by sidecar B, not the race.
    expect(t.hops[1]!.shared).toBe(true);
    expect(t.hops[1]!.resetBy).toBe("server");
    expect(t.outcome).toBe(O.OUTCOME_RESET_BY_SERVER);
    expect(t.race).toBeNull();
  });

  it("raises the keep-alive race alert with the advice", () => {
    const { t } = raced();
    const engine = new AlertEngine({ now: () => 1_750_000_000_000 });
    const alerts = engine.evaluate(t);
    expect(alerts.map((a) => a.rule)).toEqual(["upstream-idle-close-race"]);
    expect(alerts[0]!.explanation).toContain("common_http_protocol_options.idle_timeout");
  });
});

/**
 * The records with the SOCKET_LINK lines TCP mode gives: per proxied
 * connection, once per direction, right after the upstream connected (the
 * downstream is the last one its process accepted before dialing).
 */
function withTcpLinks(recs: readonly FixtureRecord[]): FixtureRecord[] {
  const lastAccepted = new Map<string, FixtureRecord>();
  const dialer = new Map<string, FixtureRecord>();
  const out: FixtureRecord[] = [];
  for (const r of recs) {
    out.push(r);
    const e = r.event;
    const pid = e.process?.pid ?? 0;
    if (e.kind === EventKind.EVENT_KIND_SYSCALL_ACCEPT && pid) lastAccepted.set(`${r.node}/${pid}`, r);
    if (e.kind === EventKind.EVENT_KIND_SYSCALL_CONNECT && pid) {
      const d = lastAccepted.get(`${r.node}/${pid}`);
      if (d) dialer.set(`${r.node}/${e.sock}`, d);
    }
    if (e.kind === EventKind.EVENT_KIND_STATE_CHANGE && e.newState === TcpState.TCP_STATE_ESTABLISHED) {
      const d = dialer.get(`${r.node}/${e.sock}`);
      if (!d) continue;
      dialer.delete(`${r.node}/${e.sock}`);
      const link = (sock: string, linked: string, dt: bigint): FixtureRecord => ({
        node: r.node,
        event: Object.assign(v1.ConnEvent.create({ kind: EventKind.EVENT_KIND_SOCKET_LINK, sock, linkedSock: linked, linkSources: 1, process: d.event.process, timeUs: e.timeUs }), {
          tsNs: e.tsNs + dt,
          gapStartNs: 0n,
        }) as unknown as FixtureRecord["event"],
      });
      out.push(link(e.sock, d.event.sock, 1n), link(d.event.sock, e.sock, 2n));
    }
  }
  return out;
}

describe("TCP mode: SOCKET_LINK lines per proxied connection change nothing", () => {
  const fixtures: [string, FixtureRecord[]][] = [
    ...Object.entries(SCENARIOS).map(([name, make]) => [name, toFixture(make())] as [string, FixtureRecord[]]),
    ...readdirSync(join(import.meta.dirname, "fixtures", "lab"))
      .filter((f) => f.endsWith(".json"))
      .map((f) => [`lab/${f}`, loadFixture(join(import.meta.dirname, "fixtures", "lab", f))] as [string, FixtureRecord[]]),
  ];
  for (const [name, recs] of fixtures) {
    it(`${name}: the same traces with the link lines injected`, () => {
      const linked = withTcpLinks(recs);
      const injected = linked.length - recs.length;
      const plain = stitch(recs);
      const withLinks = stitch(linked);
      const obj = (t: Trace) => v1.Trace.toObject(t, { longs: String, defaults: true });
      expect(withLinks.traces.map(obj)).toEqual(plain.traces.map(obj));
      // Every link line was understood (none malformed or about unknown sockets), none made a shared hop.
      expect(withLinks.stitcher.stats().malformed).toBe(plain.stitcher.stats().malformed);
      expect(withLinks.stitcher.stats().untracked).toBe(plain.stitcher.stats().untracked);
      expect(withLinks.stitcher.stats().sharedLinks).toBe(0);
      if (name === "ok") expect(injected).toBe(4);
    });
  }
});
