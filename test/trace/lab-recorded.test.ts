// The stitcher over event streams recorded from the real lab (real kernel,
// real HAProxy, istio-iptables): test/trace/fixtures/lab/<scenario>.json were
// written by test/e2e/lab-ground-truth.test.ts with TCPTRAIL_RECORD_FIXTURES.
import { describe, expect, it } from "vitest";
import { IDLE_TIMEOUT_MS } from "../../src/lab/scenarios/idle-timeout.js";
import { SIDECAR_DEFAULTS } from "../../src/lab/sidecar-config.js";
import { Outcome, Role, formatEndpoint, outcomeName, type Trace } from "../../src/model/mod.js";
import type { StitcherOptions } from "../../src/trace/mod.js";
import { loadFixture } from "./helpers/load-fixture.js";
import { stitch } from "./helpers/stitch.js";

const fixture = (name: string) => loadFixture(new URL(`./fixtures/lab/${name}.json`, import.meta.url).pathname);

/** The one trace that starts at the lab client (the app whose connect() began it). */
function clientTrace(name: string, batch = 8, opts: StitcherOptions = {}): Trace {
  const { traces } = stitch(fixture(name), opts, batch);
  const mine = traces.filter((t) => t.hops[0]?.client?.comm === "tt-client");
  expect(mine.map((t) => `${outcomeName(t.outcome)}: ${t.explanation}`)).toHaveLength(1);
  return mine[0]!;
}

const chain = (t: Trace) => t.hops.map((h) => `${h.client?.pod}/${h.client?.comm} → ${h.server?.pod ?? "?"}:${h.server?.port}`);

describe("stitching recorded lab streams", () => {
  it("ok: app → sidecar:15001 → peer sidecar:15006 → 127.0.0.6 → app, completed", () => {
    const t = clientTrace("ok");
    expect(t.outcome).toBe(Outcome.OUTCOME_COMPLETED);
    expect(chain(t)).toEqual(["tt-a/tt-client → tt-a:15001", "tt-a/haproxy → tt-b:15006", "tt-b/haproxy → tt-b:8080"]);
    expect(t.hops[2]!.client!.ip).toBe("127.0.0.6");
    expect(formatEndpoint(t.hops[0]!.originalDestination)).toBe(formatEndpoint({ ip: t.hops[2]!.server!.ip, port: 8080 }));
    expect(formatEndpoint(t.hops[1]!.originalDestination)).toBe(formatEndpoint({ ip: t.hops[2]!.server!.ip, port: 8080 }));
    // app b answered and closed first; every other hop followed
    expect(t.hops[2]!.firstFinBy).toBe("server");
    expect([t.firstCloseHop, t.firstCloseBy]).toEqual([3, "server"]);
    expect(t.explanation).toContain("; app tt-b closed first with a FIN on hop 3, ");
    expect(t.explanation).not.toMatch(/idle/);
  });

  it("app-abort: app b reset it, with the kernel's reason; the sidecars relayed FINs", () => {
    const t = clientTrace("app-abort");
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_BY_SERVER);
    expect(t.resetOrigin?.pod).toBe("tt-b");
    expect(t.resetOrigin?.role).toBe(Role.ROLE_APP);
    expect(t.hops[2]!.resetBy).toBe("server");
    expect(t.hops[2]!.resetReason).not.toBe(0);
    expect(t.resetOriginHop).toBe(3);
    expect(t.explanation).toMatch(/^App tt-app \(pid \d+, lab\/tt-b\) reset the connection to sidecar tt-b on hop 3 \(kernel reason /);
  });

  it("no-listener: pod b's kernel refused the sidecar's connect from 127.0.0.6", () => {
    const t = clientTrace("no-listener");
    expect(t.outcome).toBe(Outcome.OUTCOME_REFUSED);
    expect(t.resetOrigin?.pod).toBe("tt-b");
    expect(t.hops).toHaveLength(3);
    expect(t.hops[2]!.client!.ip).toBe("127.0.0.6");
  });

  it("sidecar-crash: sidecar b exited with the connection open", () => {
    const t = clientTrace("sidecar-crash");
    expect(t.outcome).toBe(Outcome.OUTCOME_PROCESS_EXIT);
    expect(t.resetOrigin?.pod).toBe("tt-b");
    expect(t.resetOrigin?.role).toBe(Role.ROLE_SIDECAR);
  });

  it("reject: a reset no traced socket sent, towards a pod whose sockets are traced", () => {
    // The consumer has seen pod b's sockets before (here: the ok scenario), so b is traced
    // territory and its silence means no socket of b sent the RST.
    const { traces } = stitch([...fixture("ok"), ...fixture("reject")], {}, 8);
    const t = traces.find((x) => x.hops[0]?.originalDestination?.port === 9091)!;
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_UNTRACED);
    expect(t.hops).toHaveLength(2);
    expect(t.hops[1]!.resetBy).toBe("none");
    // The sender, as the wire names it: the address sidecar a dialed (b's), b's pod, the network, no process.
    const b = t.hops[1]!.client!;
    expect(t.resetOriginHop).toBe(2);
    expect(formatEndpoint(t.resetOrigin)).toBe(formatEndpoint(t.hops[1]!.server));
    expect(t.resetOrigin!.port).toBe(9091);
    expect(t.resetOrigin).toMatchObject({ pod: "tt-b", role: Role.ROLE_NETWORK, pid: 0, comm: "", socketId: "" });
    // The socket that received it, separately: sidecar a's upstream, with its process.
    expect(t.resetReceiver).toMatchObject({ pod: "tt-a", role: Role.ROLE_SIDECAR, comm: "haproxy", socketId: b.socketId });
    expect(t.resetReceiver!.pid).toBeGreaterThan(0);
    expect(t.explanation).toMatch(
      new RegExp(
        `^A RST from ${formatEndpoint(t.resetOrigin).replace(/\./g, "\\.")} \\(pod tt-b, network: no traced socket sent it, [^)]*\\) reached sidecar tt-a \\(haproxy pid ${b.pid}\\) on hop 2; `,
      ),
    );
  });

  it("reject, seen alone: a RST from an address nobody traces reads as a refusal by that host", () => {
    const { traces } = stitch(fixture("reject"), {}, 8);
    expect(traces.map((t) => t.outcome)).toEqual([Outcome.OUTCOME_REFUSED]);
  });

  it("idle-timeout: the first FIN comes from a sidecar, not an app", () => {
    const t = clientTrace("idle-timeout");
    const closers = t.hops.map((h) => (h.firstFinBy === "client" ? h.client : h.firstFinBy === "server" ? h.server : null));
    const first = t.hops
      .map((h, i) => ({ i, at: Number(h.endUs) }))
      .sort((a, b) => a.at - b.at)[0]!;
    expect(closers.filter(Boolean).length).toBeGreaterThan(0);
    expect(t.resetOrigin?.role ?? closers[first.i]?.role ?? Role.ROLE_SIDECAR).toBe(Role.ROLE_SIDECAR);
  });

  it("idle-timeout: sidecar b's first FIN after a quiet second is named its idle timeout", () => {
    const t = clientTrace("idle-timeout");
    expect(t.outcome).toBe(Outcome.OUTCOME_COMPLETED);
    expect([t.firstCloseHop, t.firstCloseBy]).toEqual([3, "client"]);
    expect(t.explanation).toMatch(/; sidecar tt-b closed the idle connection to app tt-b on hop 3 after 1\.0 s \(proxy idle timeout\), /);
  });

  it("idle-timeout with the sidecar's timeout configured: compared with it; far from the configured one, not called one", () => {
    const near = clientTrace("idle-timeout", 8, { proxyIdleTimeoutMs: IDLE_TIMEOUT_MS });
    expect(near.explanation).toContain(
      `sidecar tt-b closed the idle connection to app tt-b on hop 3: 1.0 s idle vs the configured timeout ${IDLE_TIMEOUT_MS / 1000} s (proxy idle timeout)`,
    );
    const far = clientTrace("idle-timeout", 8, { proxyIdleTimeoutMs: SIDECAR_DEFAULTS.idleTimeoutMs });
    expect(far.explanation).toContain(`sidecar tt-b closed first with a FIN on hop 3 after 1.0 s without events, far from the configured idle timeout`);
    expect(far.explanation).not.toMatch(/proxy idle timeout|closed the idle connection/);
  });

  it("plain-to-mesh: an un-meshed client reaches pod b's inbound sidecar directly", () => {
    const t = clientTrace("plain-to-mesh");
    expect(t.outcome).toBe(Outcome.OUTCOME_COMPLETED);
    expect(chain(t)).toEqual(["tt-c/tt-client → tt-b:15006", "tt-b/haproxy → tt-b:8080"]);
  });

  it("batching does not change the result", () => {
    for (const name of ["ok", "app-abort", "no-listener", "sidecar-crash", "plain-to-mesh"]) {
      expect(clientTrace(name, 1).traceId).toBe(clientTrace(name, 500).traceId);
    }
  });
});
