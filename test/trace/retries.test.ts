// A proxy that retries a failed upstream connect: every attempt made for one
// downstream connection is a hop of that connection's trace, in order, with
// its own outcome; the last attempt decides the trace; alerts see one trace.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { AlertEngine } from "../../src/alert/mod.js";
import { Outcome, ResetReason, formatEndpoint, type Trace } from "../../src/model/mod.js";
import { loadFixture } from "./helpers/load-fixture.js";
import { MeshLab } from "./helpers/mesh-lab.js";
import {
  appA,
  failedAttempt,
  handshake,
  podA,
  podC,
  proxyA,
  scenarioInboundRetries,
  scenarioRejectRetries,
  scenarioRetriesTwoThreads,
} from "./helpers/scenarios.js";
import { stitch } from "./helpers/stitch.js";
import { APP_UID, SIDECAR_UID } from "./helpers/mesh-lab.js";

const MS = 1_000_000;
const O = Outcome;

const route = (t: Trace) => t.hops.map((h) => `${formatEndpoint(h.client)}>${formatEndpoint(h.server)}`);
/** The hop the trace names as where its failure began (by Hop.index, whatever its base). */
const originHop = (t: Trace) => t.hops.find((h) => h.index === t.resetOriginHop);

describe("proxy retries: one trace per downstream connection", () => {
  it("2 refused + 1 ok: every attempt is a hop in order, the trace completed", () => {
    const { traces, stitcher } = stitch(scenarioInboundRetries(["refused", "refused", "ok"]));
    expect(traces).toHaveLength(1);
    const t = traces[0]!;
    expect(route(t)).toEqual([
      "10.88.0.2:41001>127.0.0.1:15001",
      "10.88.0.2:41002>10.88.0.3:15006",
      "127.0.0.6:41003>10.88.0.3:8080",
      "127.0.0.6:41005>10.88.0.3:8080",
      "127.0.0.6:41007>10.88.0.3:8080",
    ]);
    expect(t.hops.map((h) => h.attempt)).toEqual([1, 1, 1, 2, 3]);
    // Every attempt carries the total, so outputs say "attempt 2 of 3" without regrouping hops.
    expect(t.hops.map((h) => h.attempts)).toEqual([1, 1, 3, 3, 3]);
    expect(t.hops.map((h) => h.outcome)).toEqual([O.OUTCOME_COMPLETED, O.OUTCOME_COMPLETED, O.OUTCOME_REFUSED, O.OUTCOME_REFUSED, O.OUTCOME_COMPLETED]);
    expect(t.hops.map((h) => h.link)).toEqual(["", "proxy", "proxy", "proxy", "proxy"]);
    expect(t.hops[2]!.resetReason).toBe(ResetReason.RESET_REASON_NO_SOCKET);
    expect(t.hops[4]!.server!.pid).toBe(913);
    expect(t.outcome).toBe(O.OUTCOME_COMPLETED);
    expect(t.resetOrigin).toBeNull();
    // The chain names the path that carried the data; the refusals are told once.
    expect(t.explanation).toMatch(/^App node \(pid 812, lab\/tt-a\) → sidecar tt-a → sidecar tt-b → app node \(pid 913, lab\/tt-b\) completed/);
    expect(t.explanation).toContain("sidecar tt-b tried 3 times to connect to 10.88.0.3:8080 (refused, refused, connected)");
    expect(stitcher.stats().retries).toBe(2);
    expect(stitcher.stats().pooled).toBe(0);
  });

  it("3 refused: one REFUSED trace whose origin is the last attempt, explained once", () => {
    const { traces } = stitch(scenarioInboundRetries(["refused", "refused", "refused"]));
    expect(traces).toHaveLength(1);
    const t = traces[0]!;
    expect(t.hops).toHaveLength(5);
    expect(t.hops.map((h) => h.attempt)).toEqual([1, 1, 1, 2, 3]);
    expect(t.hops.slice(2).map((h) => h.outcome)).toEqual([O.OUTCOME_REFUSED, O.OUTCOME_REFUSED, O.OUTCOME_REFUSED]);
    expect(t.hops.slice(2).map((h) => h.client!.port)).toEqual([41003, 41005, 41007]);
    expect(t.outcome).toBe(O.OUTCOME_REFUSED);
    expect(originHop(t)).toBe(t.hops[4]);
    expect(formatEndpoint(t.resetOrigin)).toBe("10.88.0.3:8080");
    expect(t.explanation).toMatch(/^Sidecar tt-b tried 3 times to connect to 10\.88\.0\.3:8080 \(all refused\); on the last attempt, nothing listened on 10\.88\.0\.3:8080/);
    // The failure travels back from the last attempt only: no earlier refusal is "relayed".
    expect(t.explanation).toContain("sidecar tt-b relayed it as a FIN to sidecar tt-a");
    expect(t.explanation.match(/relayed/g)).toHaveLength(1);
  });

  it("3 refused raise one alert, not one per attempt", () => {
    const { traces } = stitch(scenarioInboundRetries(["refused", "refused", "refused"]));
    const engine = new AlertEngine({ now: () => 1_750_000_000_000 });
    const alerts = traces.flatMap((t) => engine.evaluate(t));
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.rule).toBe("refused");
    expect(alerts[0]!.count).toBe(1);
    expect(engine.stats().rules["refused"]!.matched).toBe(1);
  });

  it("rejected 3 times (a RST no socket sent, each time): one RESET_UNTRACED trace", () => {
    const { traces } = stitch(scenarioRejectRetries(3));
    const t = traces.find((x) => x.hops[0]!.client!.port === 41101)!;
    expect(traces).toHaveLength(2);
    expect(t.hops.map((h) => h.attempt)).toEqual([1, 1, 2, 3]);
    expect(t.hops.map((h) => h.client!.port)).toEqual([41101, 41102, 41104, 41106]);
    expect(t.hops.slice(1).every((h) => h.outcome === O.OUTCOME_RESET_UNTRACED)).toBe(true);
    expect(t.outcome).toBe(O.OUTCOME_RESET_UNTRACED);
    expect(originHop(t)).toBe(t.hops[3]);
    expect(t.explanation).toMatch(/^Sidecar tt-a tried 3 times to connect to 10\.88\.0\.3:8080 \(all reset by a RST no traced socket sent\); on the last attempt, /);
  });

  it("two downstreams on two threads of one proxy, same destination, interleaved: never merged", () => {
    const { records, ports } = scenarioRetriesTwoThreads();
    const { traces, stitcher } = stitch(records);
    expect(traces).toHaveLength(2);
    const served = traces.find((t) => t.hops[0]!.client!.port === 41001)!;
    const refused = traces.find((t) => t.hops[0]!.client!.port === 41011)!;
    expect(served.hops.slice(1).map((h) => h.client!.port)).toEqual(ports[0]);
    expect(refused.hops.slice(1).map((h) => h.client!.port)).toEqual(ports[1]);
    expect(served.hops.map((h) => h.attempt)).toEqual([1, 1, 2, 3]);
    expect(refused.hops.map((h) => h.attempt)).toEqual([1, 1, 2, 3]);
    expect(served.outcome).toBe(O.OUTCOME_COMPLETED);
    expect(served.hops[3]!.server!.port).toBe(9090);
    expect(refused.outcome).toBe(O.OUTCOME_REFUSED);
    expect(stitcher.stats().pooled).toBe(0);
  });

  it("one thread: a connect that can be one downstream's retry or another's first attempt is pooled, not guessed", () => {
    const lab = new MeshLab();
    const A = podA();
    const C = podC();
    const dst = { ip: C.ip, port: 9090 };
    const accept = (port: number) => {
      const c = lab.sock(A, { ip: A.ip, port }, dst, { uid: APP_UID, role: "APP" });
      const d = lab.sock(A, { ip: "127.0.0.1", port: 15001 }, { ip: A.ip, port }, { uid: SIDECAR_UID, role: "SIDECAR", leg: "OUTBOUND_LISTENER" });
      handshake(lab, c, d, appA, proxyA, { target: dst, odst: dst });
    };
    accept(41001);
    failedAttempt(lab, lab.sock(A, { ip: A.ip, port: 42000 }, dst, { uid: SIDECAR_UID, role: "SIDECAR", leg: "UPSTREAM" }), dst, proxyA, "refused", C);
    accept(41011);
    lab.wait(A.node, 100 * MS);
    failedAttempt(lab, lab.sock(A, { ip: A.ip, port: 42010 }, dst, { uid: SIDECAR_UID, role: "SIDECAR", leg: "UPSTREAM" }), dst, proxyA, "refused", C);
    const { traces, stitcher } = stitch(lab.records);
    expect(stitcher.stats().pooled).toBe(1);
    expect(stitcher.stats().retries).toBe(0);
    const alone = traces.find((t) => t.hops[0]!.client!.port === 42010)!;
    expect(alone.hops).toHaveLength(1);
    expect(alone.hops[0]!.link).toBe("pooled");
  });
});

describe("what is not a retry", () => {
  /** App A → sidecar A → C:9090, first attempt refused, then `next` happens, then a second connect on the same thread. */
  function refusedThen(next: (lab: MeshLab, d: ReturnType<MeshLab["sock"]>) => void, opts = {}) {
    const lab = new MeshLab();
    const A = podA();
    const C = podC();
    const dst = { ip: C.ip, port: 9090 };
    const c = lab.sock(A, { ip: A.ip, port: 41001 }, dst, { uid: APP_UID, role: "APP" });
    const d = lab.sock(A, { ip: "127.0.0.1", port: 15001 }, { ip: A.ip, port: 41001 }, { uid: SIDECAR_UID, role: "SIDECAR", leg: "OUTBOUND_LISTENER" });
    handshake(lab, c, d, appA, proxyA, { target: dst, odst: dst });
    const u1 = lab.sock(A, { ip: A.ip, port: 42000 }, dst, { uid: SIDECAR_UID, role: "SIDECAR", leg: "UPSTREAM" });
    failedAttempt(lab, u1, dst, proxyA, "refused", C);
    next(lab, d);
    const u2 = lab.sock(A, { ip: A.ip, port: 42002 }, dst, { uid: SIDECAR_UID, role: "SIDECAR", leg: "UPSTREAM" });
    failedAttempt(lab, u2, dst, proxyA, "refused", C);
    return stitch(lab.records, opts);
  }

  it("a connect after the proxy gave up on the downstream (closed it) starts its own trace", () => {
    const { traces, stitcher } = refusedThen((lab, d) => {
      lab.syscall(d, "CLOSE", proxyA);
      lab.state(d, "FIN_WAIT1");
    });
    expect(stitcher.stats().retries).toBe(0);
    expect(traces.find((t) => t.hops[0]!.client!.port === 42002)!.hops).toHaveLength(1);
  });

  it("a connect later than the retry window starts its own trace", () => {
    const wait = (lab: MeshLab) => lab.wait("lab", 600 * MS);
    const linked = refusedThen(wait, { retryWindowMs: 1000 });
    expect(linked.stitcher.stats().retries).toBe(1);
    const late = refusedThen(wait, { retryWindowMs: 500 });
    expect(late.stitcher.stats().retries).toBe(0);
    expect(late.traces.find((t) => t.hops[0]!.client!.port === 42002)!.hops).toHaveLength(1);
  });

  it("recorded lab no-listener: two connect() calls on one socket are one attempt", () => {
    const recs = loadFixture(join(import.meta.dirname, "fixtures", "lab", "no-listener.json"));
    const { traces, stitcher } = stitch(recs);
    expect(traces).toHaveLength(1);
    expect(traces[0]!.hops.map((h) => h.attempt)).toEqual([1, 1, 1]);
    expect(stitcher.stats().retries).toBe(0);
  });
});
