import { describe, expect, it } from "vitest";
import { AlertEngine, defaultAlertRules, formatAlertText, parseAlertRules, traceFacts, type AlertRule } from "../../src/alert/mod.js";
import { Outcome, Role, Severity } from "../../src/model/mod.js";
import { scenarioReject } from "../trace/helpers/scenarios.js";
import { stitch } from "../trace/helpers/stitch.js";
import { appB, sidecarB, trace } from "./traces.js";

/** A clock the test moves by hand. */
function clock(startMs = 1_700_000_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = startMs;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

const SIDECAR_EXPLANATION = "sidecar tt-b (haproxy pid 77) reset the connection from sidecar tt-a (abort on close).";

describe("default rules", () => {
  it("reset-from-sidecar fires, critical, with the trace's explanation after what the rule means", () => {
    const c = clock();
    const engine = new AlertEngine({ now: c.now });
    const t = trace({ outcome: Outcome.OUTCOME_RESET_BY_SERVER, resetOrigin: sidecarB, explanation: SIDECAR_EXPLANATION, traceId: "tr-1" });
    const alerts = engine.evaluate(t);
    expect(alerts).toHaveLength(1);
    const a = alerts[0]!;
    expect(a.rule).toBe("reset-from-sidecar");
    expect(a.severity).toBe(Severity.SEVERITY_CRITICAL);
    expect(a.traceId).toBe("tr-1");
    expect(a.explanation).toBe(`reset began in a sidecar: ${SIDECAR_EXPLANATION}`);
    expect(a.sourcePod).toBe("tt-a");
    expect(a.destination).toBe("10.88.0.3:8080");
    expect(a.count).toBe(1);
    expect(a.timeUs).toBe(c.now() * 1000);
    expect(a.alertId).toMatch(/^[0-9a-f]{24}$/);
  });

  it("reset-from-sidecar stays silent when the reset began in an app", () => {
    const engine = new AlertEngine({ now: clock().now });
    expect(engine.evaluate(trace({ outcome: Outcome.OUTCOME_RESET_BY_SERVER, resetOrigin: appB }))).toEqual([]);
  });

  it("reset-untraced fires as a warning", () => {
    const engine = new AlertEngine({ now: clock().now });
    const alerts = engine.evaluate(
      trace({ outcome: Outcome.OUTCOME_RESET_UNTRACED, explanation: "a RST reached app tt-a that no traced socket sent." }),
    );
    expect(alerts.map((a) => [a.rule, a.severity, a.explanation])).toEqual([
      ["reset-untraced", Severity.SEVERITY_WARNING, "RST from the network path, sent by no traced socket: a RST reached app tt-a that no traced socket sent."],
    ]);
  });

  it("reset-untraced names the RST's sender on the wire and its receiver, as the trace does", () => {
    // The stitcher's own trace of an iptables REJECT between sidecar a and pod b.
    const t = stitch(scenarioReject()).traces[0]!;
    const facts = traceFacts(t);
    expect([facts.resetOriginRole, facts.resetOriginPod, facts.sourcePod]).toEqual([Role.ROLE_NETWORK, "tt-b", "tt-a"]);
    const alerts = new AlertEngine({ now: clock().now }).evaluate(t);
    expect(alerts.map((a) => [a.rule, a.sourcePod, a.destination])).toEqual([["reset-untraced", "tt-a", "10.88.0.3:8080"]]);
    const text = formatAlertText(alerts[0]!);
    expect(text).toContain(
      " reset-untraced tt-a → 10.88.0.3:8080 trace=" + t.traceId + " RST from the network path, sent by no traced socket: A RST from 10.88.0.3:8080 (pod tt-b, network: ",
    );
    expect(text).toContain(") reached sidecar tt-a (haproxy pid 640) on hop 2; ");
    // A rule can ask for resets begun on the network path by role.
    const rules = parseAlertRules("rules:\n  - name: net\n    severity: info\n    match: { reset_origin_role: network }\n", "test");
    expect(new AlertEngine({ rules, now: clock().now }).evaluate(t).map((a) => a.rule)).toEqual(["net"]);
  });

  it("refused fires as a warning, and describes a trace that has no explanation", () => {
    const engine = new AlertEngine({ now: clock().now });
    const alerts = engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED, traceId: "tr-9", destPort: 9999 }));
    expect(alerts.map((a) => [a.rule, a.severity, a.destination, a.explanation])).toEqual([
      ["refused", Severity.SEVERITY_WARNING, "10.88.0.3:9999", "connection refused: trace tr-9 ended refused"],
    ]);
  });

  it("stays silent for completed, open and incomplete traces", () => {
    const engine = new AlertEngine({ now: clock().now });
    for (const outcome of [Outcome.OUTCOME_COMPLETED, Outcome.OUTCOME_OPEN, Outcome.OUTCOME_INCOMPLETE]) {
      for (let i = 0; i < 30; i++) expect(engine.evaluate(trace({ outcome }))).toEqual([]);
    }
    expect(engine.stats()).toMatchObject({ evaluated: 90, matched: 0, emitted: 0, suppressed: 0 });
  });

  it("takes the destination from the server when the first hop has no original destination", () => {
    const engine = new AlertEngine({ now: clock().now });
    const t = trace({ outcome: Outcome.OUTCOME_REFUSED });
    t.hops[0]!.originalDestination = null;
    expect(engine.evaluate(t)[0]!.destination).toBe("127.0.0.1:15001");
  });
});

describe("de-duplication and rate limiting", () => {
  it("folds repeats into count, emits at most once per rate_limit period, counts the rest as suppressed", () => {
    const c = clock();
    const engine = new AlertEngine({ now: c.now });
    const refused = (): ReturnType<typeof trace> => trace({ outcome: Outcome.OUTCOME_REFUSED });

    const first = engine.evaluate(refused());
    expect(first.map((a) => a.count)).toEqual([1]);
    for (let i = 0; i < 4; i++) {
      c.advance(10_000);
      expect(engine.evaluate(refused())).toEqual([]);
    }
    // 60 s after the first emission the limiter allows one more: the same group, five matches so far.
    c.advance(20_000);
    const second = engine.evaluate(refused());
    expect(second).toHaveLength(1);
    expect(second[0]!.count).toBe(6);
    expect(second[0]!.alertId).toBe(first[0]!.alertId);
    expect(engine.stats()).toMatchObject({ matched: 6, fired: 6, emitted: 2, suppressed: 4, openGroups: 1 });
    expect(engine.stats().rules["refused"]).toEqual({ matched: 6, fired: 6, emitted: 2, suppressed: 4 });
  });

  it("keys groups by rule, source pod and destination", () => {
    const engine = new AlertEngine({ now: clock().now });
    expect(engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED, sourcePod: "tt-a" }))).toHaveLength(1);
    expect(engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED, sourcePod: "tt-c" }))).toHaveLength(1);
    expect(engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED, destPort: 81 }))).toHaveLength(1);
    expect(engine.evaluate(trace({ outcome: Outcome.OUTCOME_RESET_UNTRACED }))).toHaveLength(1);
    expect(engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED, sourcePod: "tt-c" }))).toEqual([]);
    expect(engine.stats().openGroups).toBe(4);
  });

  it("opens a new group with a new id once the dedupe window is over", () => {
    const c = clock();
    const engine = new AlertEngine({ now: c.now });
    const a1 = engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED }))[0]!;
    c.advance(300_000);
    const a2 = engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED }))[0]!;
    expect(a2.count).toBe(1);
    expect(a2.alertId).not.toBe(a1.alertId);
  });

  it("gives the same alert ids for the same traces at the same times", () => {
    const run = (): string[] => {
      const c = clock();
      const engine = new AlertEngine({ now: c.now });
      const ids: string[] = [];
      for (const [i, outcome] of [Outcome.OUTCOME_REFUSED, Outcome.OUTCOME_RESET_UNTRACED].entries()) {
        c.advance(1_000);
        for (const a of engine.evaluate(trace({ outcome, traceId: `fixed-${i}` }))) ids.push(a.alertId);
      }
      return ids;
    };
    const ids = run();
    expect(ids).toHaveLength(2);
    expect(run()).toEqual(ids);
  });

  it("flush() reports the folded count once the limit allows, then forgets the expired group", () => {
    const c = clock();
    const engine = new AlertEngine({ now: c.now });
    engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED }));
    c.advance(1_000);
    engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED, traceId: "last" }));
    expect(engine.flush()).toEqual([]); // still rate-limited
    c.advance(59_000);
    const flushed = engine.flush();
    expect(flushed.map((a) => [a.count, a.traceId])).toEqual([[2, "last"]]);
    expect(engine.flush()).toEqual([]); // nothing left to report
    c.advance(300_000);
    engine.flush();
    expect(engine.stats().openGroups).toBe(0);
  });

  it("honours rate_limit.max above one", () => {
    const rules = parseAlertRules(
      "rules:\n  - {name: r, severity: info, match: {outcome: refused}, rate_limit: {max: 3, per: 10s}}\n",
      "inline",
    );
    const c = clock();
    const engine = new AlertEngine({ rules, now: c.now });
    const counts = [];
    for (let i = 0; i < 5; i++) counts.push(engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED })).map((a) => a.count));
    expect(counts).toEqual([[1], [2], [3], [], []]);
    c.advance(10_000);
    expect(engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED }))[0]!.count).toBe(6);
  });
});

describe("reset-rate", () => {
  const rateOnly = (): AlertRule[] => defaultAlertRules().filter((r) => r.name === "reset-rate");

  it("fires only when more than 20 resets share a source pod and destination within 60 s", () => {
    const c = clock();
    const engine = new AlertEngine({ rules: rateOnly(), now: c.now });
    const reset = (sourcePod = "tt-a") =>
      trace({ outcome: Outcome.OUTCOME_RESET_BY_CLIENT, sourcePod, resetOrigin: { ...appB, pod: sourcePod, role: Role.ROLE_APP } });

    for (let i = 0; i < 20; i++) {
      c.advance(2_000);
      expect(engine.evaluate(reset())).toEqual([]);
      expect(engine.evaluate(reset("tt-other"))).toEqual([]);
    }
    c.advance(2_000);
    const [alert, ...rest] = engine.evaluate(reset());
    expect(rest).toEqual([]);
    expect(alert!.rule).toBe("reset-rate");
    expect(alert!.explanation).toMatch(/^reset rate above threshold \(more than 20 in 60s, tt-a → 10\.88\.0\.3:8080\): trace t-\d+ ended reset by client$/);
    expect(engine.stats().rules["reset-rate"]).toEqual({ matched: 41, fired: 1, emitted: 1, suppressed: 0 });
  });

  it("forgets resets older than the window", () => {
    const c = clock();
    const engine = new AlertEngine({ rules: rateOnly(), now: c.now });
    // 20 resets every 3.5 s: the 21st arrives when the first has left the 60 s window.
    for (let i = 0; i < 40; i++) {
      expect(engine.evaluate(trace({ outcome: Outcome.OUTCOME_RESET_UNTRACED }))).toEqual([]);
      c.advance(3_500);
    }
  });
});

describe("custom matches", () => {
  it("matches pods by glob on any hop and ports on the destination", () => {
    const rules = parseAlertRules(
      "rules:\n  - {name: b-pods, severity: info, match: {outcome: refused, pod: 'tt-b*', port: 8080}}\n",
      "inline",
    );
    const engine = new AlertEngine({ rules, now: clock().now });
    expect(engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED }))).toHaveLength(1); // tt-b is the server pod
    expect(engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED, destPort: 8081 }))).toEqual([]);
  });

  it("bounds the keys a rule tracks", () => {
    const c = clock();
    const engine = new AlertEngine({ now: c.now, maxKeysPerRule: 100 });
    for (let i = 0; i < 1_000; i++) engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED, sourcePod: `p${i}` }));
    c.advance(1_000);
    engine.evaluate(trace({ outcome: Outcome.OUTCOME_REFUSED, sourcePod: "last" }));
    expect(engine.stats().openGroups).toBeLessThanOrEqual(100);
    expect(engine.stats().evictedKeys).toBeGreaterThan(0);
  });
});
