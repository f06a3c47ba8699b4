import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AlertEngine,
  AlertPublisher,
  decodeAlert,
  encodeAlert,
  followAlerts,
  isAlertSourceError,
  readRecentAlerts,
  type AlertReadStats,
} from "../../src/alert/mod.js";
import { runAlerts } from "../../src/cli/commands/alerts.js";
import { silentLogger } from "../../src/log/logger.js";
import { Outcome, Severity, v1, type Alert } from "../../src/model/mod.js";
import {
  ALERTS_STREAM,
  ALERTS_WILDCARD,
  ensureStreams,
  isNatsUnreachableError,
  jetstream,
  jetstreamManager,
  type NatsConnection,
} from "../../src/transport/mod.js";
import { setupNats, waitFor, type NatsSetup, type TestNatsServer } from "../helpers/mod.js";
import { sidecarB, trace } from "./traces.js";

let nats: NatsSetup;
let server: TestNatsServer;
let nc: NatsConnection;

beforeAll(async () => {
  // No streams yet: one test checks what a missing alerts stream reads as.
  nats = await setupNats({ label: "alert-nats", streams: false, connect: { name: "alert-test" } });
  ({ server, nc } = nats);
});

afterAll(async () => {
  await nats?.close();
});

function alert(id: string, severity: Severity, rule = "refused"): Alert {
  return v1.Alert.create({
    alertId: id,
    rule,
    severity,
    traceId: `trace-${id}`,
    explanation: `${rule}: test alert ${id}`,
    timeUs: Date.now() * 1_000,
    count: 1,
    sourcePod: "tt-a",
    destination: "10.88.0.3:8080",
  });
}

/** Collects messages on the alerts subjects until `n` arrived (or 5 s passed). */
function collect(n: number): Promise<{ subject: string; data: Uint8Array }[]> {
  const got: { subject: string; data: Uint8Array }[] = [];
  const sub = nc.subscribe(ALERTS_WILDCARD, { max: n, timeout: 5_000 });
  return (async () => {
    for await (const m of sub) got.push({ subject: m.subject, data: m.data });
    return got;
  })();
}

describe("AlertPublisher on a real nats-server", () => {
  it("publishes protobuf alerts on tcptrail.v1.alerts.<severity>", async () => {
    const received = collect(2);
    await nc.flush();
    const publisher = new AlertPublisher({ publish: (s, d) => nc.publish(s, d) });
    await publisher.publish(alert("p1", Severity.SEVERITY_CRITICAL, "reset-from-sidecar"));
    await publisher.publish(alert("p2", Severity.SEVERITY_WARNING));
    const msgs = await received;
    expect(msgs.map((m) => m.subject)).toEqual(["tcptrail.v1.alerts.critical", "tcptrail.v1.alerts.warning"]);
    expect(decodeAlert(msgs[0]!.data)).toMatchObject({ alertId: "p1", rule: "reset-from-sidecar", severity: Severity.SEVERITY_CRITICAL });
    expect(publisher.stats()).toEqual({ published: 2, failed: 0 });
  });

  it("carries what the engine emitted, end to end", async () => {
    const received = collect(1);
    await nc.flush();
    const engine = new AlertEngine();
    const publisher = new AlertPublisher({ publish: (s, d) => nc.publish(s, d) });
    const explanation = "sidecar tt-b (haproxy pid 77) reset the connection.";
    for (const a of engine.evaluate(trace({ outcome: Outcome.OUTCOME_RESET_BY_SERVER, resetOrigin: sidecarB, explanation, traceId: "e2e" }))) {
      publisher.send(a);
    }
    await publisher.drain();
    const [msg] = await received;
    expect(msg!.subject).toBe("tcptrail.v1.alerts.critical");
    const got = decodeAlert(msg!.data);
    expect([got.traceId, got.rule, got.explanation]).toEqual(["e2e", "reset-from-sidecar", `reset began in a sidecar: ${explanation}`]);
  });

  it("counts a publish that fails, and send() does not throw", async () => {
    const publisher = new AlertPublisher({
      publish: () => Promise.reject(new Error("no responders")),
      logger: silentLogger,
    });
    publisher.send(alert("x", Severity.SEVERITY_INFO));
    await publisher.drain();
    await expect(publisher.publish(alert("y", Severity.SEVERITY_INFO))).rejects.toThrow("no responders");
    expect(publisher.stats()).toEqual({ published: 0, failed: 2 });
  });
});

describe("followAlerts", () => {
  it("decodes alerts, filters by minimum severity, counts and skips malformed messages", async () => {
    const seen: string[] = [];
    const malformed: string[] = [];
    const follower = followAlerts(nc, {
      minSeverity: Severity.SEVERITY_WARNING,
      onAlert: (a) => seen.push(a.alertId),
      onMalformed: (_e, subject) => malformed.push(subject),
    });
    await nc.flush();
    nc.publish("tcptrail.v1.alerts.info", encodeAlert(alert("f-info", Severity.SEVERITY_INFO)));
    nc.publish("tcptrail.v1.alerts.warning", new Uint8Array([0xff, 0xff, 0xff])); // not protobuf
    nc.publish("tcptrail.v1.alerts.warning", new TextEncoder().encode("hello")); // decodes, but is no alert
    nc.publish("tcptrail.v1.alerts.critical", encodeAlert(alert("f-crit", Severity.SEVERITY_CRITICAL)));
    nc.publish("tcptrail.v1.alerts.warning", encodeAlert(alert("f-warn", Severity.SEVERITY_WARNING)));
    await waitFor(() => seen.length === 2, { what: "the two alerts at or above warning" });
    await follower.stop();
    expect(seen).toEqual(["f-crit", "f-warn"]);
    expect(malformed).toEqual(["tcptrail.v1.alerts.warning", "tcptrail.v1.alerts.warning"]);
    expect(follower.stats()).toEqual({ alerts: 2, filtered: 1, malformed: 2 });
  });
});

describe("recent alerts from the TCPTRAIL_ALERTS stream", () => {
  const opts = { nats: "", output: "json" as const, since: Date.now() * 1000 - 3_600e6 };

  it("explains a missing stream", async () => {
    const err = await runAlerts({ ...opts, nats: server.url }, { write: () => undefined, logger: silentLogger }).catch((e: unknown) => e);
    expect(isAlertSourceError(err)).toBe(true);
    expect((err as Error).message).toMatch(/no alerts stream TCPTRAIL_ALERTS/);
  });

  it("explains an unreachable server", async () => {
    const err = await runAlerts({ ...opts, nats: "nats://127.0.0.1:1" }, { write: () => undefined, logger: silentLogger }).catch(
      (e: unknown) => e,
    );
    expect(isNatsUnreachableError(err)).toBe(true);
    expect((err as Error).message).toMatch(/^cannot reach NATS at nats:\/\/127\.0\.0\.1:1/);
  });

  it("replays stored alerts since a time, then exits; -o json and --severity", async () => {
    // The stream exactly as `tcptrail run` creates it.
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm);
    const js = jetstream(nc);
    let lastSeq = 0;
    const publisher = new AlertPublisher({ publish: async (s, d) => void (lastSeq = (await js.publish(s, d)).seq) });

    // Nothing stored yet: returns at once instead of waiting.
    const empty: string[] = [];
    expect(await runAlerts({ ...opts, nats: server.url }, { write: (l) => empty.push(l), logger: silentLogger })).toEqual({
      alerts: 0,
      filtered: 0,
      malformed: 0,
    });

    await publisher.publish(alert("old", Severity.SEVERITY_CRITICAL));
    // `since` just after the old alert's stored time, and the clock past it
    // before the next publish: old is before, every later one at or after.
    const stored = await jsm.streams.getMessage(ALERTS_STREAM, { seq: lastSeq });
    const since = new Date(stored!.time.getTime() + 1);
    await waitFor(() => Date.now() > since.getTime(), { what: "the clock to pass the old alert's stored time" });
    await publisher.publish(alert("r-info", Severity.SEVERITY_INFO));
    await js.publish("tcptrail.v1.alerts.critical", new Uint8Array([1, 2, 3]));
    await publisher.publish(alert("r-crit", Severity.SEVERITY_CRITICAL, "reset-from-sidecar"));

    const ids: string[] = [];
    const stats = await readRecentAlerts(nc, { since, onAlert: (a) => ids.push(a.alertId) });
    expect(ids).toEqual(["r-info", "r-crit"]);
    expect(stats).toEqual({ alerts: 2, filtered: 0, malformed: 1 });

    const lines: string[] = [];
    const cli: AlertReadStats = await runAlerts(
      { ...opts, nats: server.url, severity: "critical" },
      { write: (l) => lines.push(l), logger: silentLogger },
    );
    expect(lines.map((l) => JSON.parse(l) as { alert_id: string; severity: string })).toMatchObject([
      { alert_id: "old", severity: "critical" },
      { alert_id: "r-crit", severity: "critical", rule: "reset-from-sidecar", trace_id: "trace-r-crit" },
    ]);
    expect(cli).toEqual({ alerts: 2, filtered: 1, malformed: 1 });
  });
});

describe("tcptrail alerts --follow", () => {
  it("prints live alerts as text until stopped", async () => {
    const lines: string[] = [];
    const ac = new AbortController();
    const run = runAlerts(
      { nats: server.url, output: "compact", follow: true, severity: "warning" },
      { write: (l) => lines.push(l), signal: ac.signal, logger: silentLogger },
    );
    // The command subscribes after connecting: publish until it has seen one.
    const a = alert("live-1", Severity.SEVERITY_WARNING);
    a.count = 3;
    await waitFor(
      () => {
        nc.publish("tcptrail.v1.alerts.warning", encodeAlert(a));
        return lines.length > 0;
      },
      { what: "the command to print its first live alert" },
    );
    nc.publish("tcptrail.v1.alerts.info", encodeAlert(alert("live-info", Severity.SEVERITY_INFO)));
    nc.publish("tcptrail.v1.alerts.warning", new Uint8Array([0xff]));
    nc.publish("tcptrail.v1.alerts.critical", encodeAlert(alert("live-2", Severity.SEVERITY_CRITICAL)));
    await waitFor(() => lines.some((l) => l.includes("trace=trace-live-2")), { what: "the critical alert live-2 printed" });
    ac.abort();
    const stats = await run;
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}Z WARNING  refused ×3 tt-a → 10\.88\.0\.3:8080 trace=trace-live-1 refused: test alert live-1$/);
    expect(stats.malformed).toBe(1);
    expect(stats.filtered).toBe(1);
    expect(lines.filter((l) => l.includes("live-info"))).toEqual([]);
  });
});
