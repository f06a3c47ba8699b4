// Every mesh-lab scenario, loaded from its JSON fixture, must give exactly one
// trace with every hop in order, the right original destinations, and the
// reset origin / first FIN the kernel sequence implies.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { Outcome, ResetReason, Role, formatEndpoint, type Trace } from "../../src/model/mod.js";
import type { StitcherOptions } from "../../src/trace/mod.js";
import { loadFixture } from "./helpers/load-fixture.js";
import { scenarioIdleTimeout, scenarioIdleTimeoutThenAbort } from "./helpers/scenarios.js";
import { stitch } from "./helpers/stitch.js";

const fixture = (name: string) => loadFixture(join(import.meta.dirname, "fixtures", `${name}.json`));

function only(name: string, opts: StitcherOptions = {}): Trace {
  const { traces, stitcher } = stitch(fixture(name), opts);
  expect(traces).toHaveLength(1);
  expect(stitcher.stats().malformed).toBe(0);
  return traces[0]!;
}

const chain = (t: Trace) => t.hops.map((h) => `${formatEndpoint(h.client)}>${formatEndpoint(h.server)}`);
const MESH = ["10.88.0.2:41001>127.0.0.1:15001", "10.88.0.2:41002>10.88.0.3:15006", "127.0.0.6:41003>10.88.0.3:8080"];

describe("mesh lab scenarios", () => {
  it("ok: three hops through two sidecars, FINs everywhere, app A closed first", () => {
    const t = only("ok");
    expect(t.outcome).toBe(Outcome.OUTCOME_COMPLETED);
    expect(chain(t)).toEqual(MESH);
    expect(t.hops.map((h) => h.link)).toEqual(["", "proxy", "proxy"]);
    for (const h of t.hops) {
      expect(formatEndpoint(h.originalDestination)).toBe("10.88.0.3:8080");
      expect(h.openedBy).toBe("client");
      expect(h.firstFinBy).toBe("client");
      expect(h.resetBy).toBe("");
      expect(h.outcome).toBe(Outcome.OUTCOME_COMPLETED);
    }
    expect(t.hops[0]!.client!.comm).toBe("node");
    expect(t.hops[0]!.client!.pid).toBe(812);
    expect(t.hops[0]!.server!.role).toBe(Role.ROLE_SIDECAR);
    expect(t.hops[2]!.server!.pod).toBe("tt-b");
    expect(t.resetOrigin).toBeNull();
    expect(t.hops.map((h) => h.index)).toEqual([1, 2, 3]);
    expect([t.firstCloseHop, t.firstCloseBy]).toEqual([1, "client"]);
    expect(t.explanation).toMatch(
      /^App node \(pid 812, lab\/tt-a\) → sidecar tt-a → sidecar tt-b → app node \(pid 913, lab\/tt-b\) completed; app tt-a closed first with a FIN on hop 1, /,
    );
    // An app's FIN right after its request is no proxy's idle timeout.
    expect(t.explanation).not.toMatch(/idle/);
    expect(t.startUs).toBeGreaterThan(0);
    expect(t.endUs).toBeGreaterThan(t.startUs);
  });

  it("ok across two nodes with unrelated monotonic clocks, whichever node's stream arrives first", () => {
    const recs = fixture("ok-two-nodes");
    const node2First = [...recs.filter((r) => r.node === "node2"), ...recs.filter((r) => r.node === "node1")];
    for (const order of [recs, node2First]) {
      const { traces } = stitch(order);
      expect(traces).toHaveLength(1);
      expect(chain(traces[0]!)).toEqual(MESH);
      expect(traces[0]!.hops[1]!.client!.node).toBe("node1");
      expect(traces[0]!.hops[1]!.server!.node).toBe("node2");
      expect(traces[0]!.outcome).toBe(Outcome.OUTCOME_COMPLETED);
    }
  });

  it("app-abort relayed as FIN: app B is the origin, TCP_ABORT_ON_CLOSE, sidecar A reset app A", () => {
    const t = only("app-abort-fin");
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_BY_SERVER);
    expect(chain(t)).toEqual(MESH);
    expect(t.resetOriginHop).toBe(3);
    expect(formatEndpoint(t.resetOrigin)).toBe("10.88.0.3:8080");
    expect(t.resetOrigin!.role).toBe(Role.ROLE_APP);
    expect(t.resetOrigin!.pid).toBe(913);
    const [h0, h1, h2] = t.hops;
    expect(h2!.resetBy).toBe("server");
    expect(h2!.resetReason).toBe(ResetReason.RESET_REASON_TCP_ABORT_ON_CLOSE);
    expect(h1!.resetBy).toBe("");
    expect(h1!.firstFinBy).toBe("server");
    expect(h0!.resetBy).toBe("server");
    expect(h0!.resetReason).toBe(ResetReason.RESET_REASON_TCP_STATE);
    expect(t.explanation).toBe(
      "App node (pid 913, lab/tt-b) reset the connection to sidecar tt-b on hop 3 (kernel reason TCP_ABORT_ON_CLOSE); " +
        "sidecar tt-b relayed it as a FIN to sidecar tt-a 1 ms later, which reset its connection to app tt-a 2.1 ms later.",
    );
  });

  it("app-abort relayed as RST: every hop reset by its server, origin still app B", () => {
    const { traces, infos } = stitch(fixture("app-abort-rst"));
    const t = traces[0]!;
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_BY_SERVER);
    expect(t.resetOriginHop).toBe(3);
    expect(t.hops.map((h) => h.resetBy)).toEqual(["server", "server", "server"]);
    // Relays carry hop numbers too (1-based, like Hop.index).
    expect(infos[0]!.propagation.map((r) => [r.hop, r.kind])).toEqual([
      [2, "RST"],
      [1, "RST"],
    ]);
  });

  for (const name of ["no-listener", "no-listener-nonblocking"]) {
    it(`${name}: refused by B's kernel (NO_SOCKET) on the last hop, the sidecars relayed it`, () => {
      const t = only(name);
      expect(t.outcome).toBe(Outcome.OUTCOME_REFUSED);
      expect(t.resetOriginHop).toBe(3);
      expect(formatEndpoint(t.resetOrigin)).toBe("10.88.0.3:9090");
      expect(t.resetOrigin!.pod).toBe("tt-b");
      const h2 = t.hops[2]!;
      expect(h2.outcome).toBe(Outcome.OUTCOME_REFUSED);
      expect(h2.resetBy).toBe("server");
      expect(h2.resetReason).toBe(ResetReason.RESET_REASON_NO_SOCKET);
      expect(formatEndpoint(h2.server)).toBe("10.88.0.3:9090");
      expect(h2.server!.socketId).toBe("");
      for (const h of t.hops) expect(formatEndpoint(h.originalDestination)).toBe("10.88.0.3:9090");
      expect(t.explanation).toMatch(/^Nothing listened on 10\.88\.0\.3:9090 in lab\/tt-b: its kernel answered the SYN from sidecar tt-b \(haproxy pid 741\) on hop 3 /);
    });
  }

  it("sidecar-crash: sidecar B's kernel-closed socket reset upstream, origin is the sidecar", () => {
    const t = only("sidecar-crash");
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_BY_SERVER);
    expect(t.resetOriginHop).toBe(2);
    expect(t.resetOrigin!.role).toBe(Role.ROLE_SIDECAR);
    expect(t.resetOrigin!.comm).toBe("haproxy");
    expect(t.resetOrigin!.pod).toBe("tt-b");
    expect(t.hops[1]!.resetReason).toBe(ResetReason.RESET_REASON_TCP_ABORT_ON_CLOSE);
    expect(t.hops[2]!.firstFinBy).toBe("client");
    expect(t.explanation).toMatch(/^Sidecar tt-b \(haproxy pid 741\) reset the connection to sidecar tt-a on hop 2 /);
  });

  it("reject: the RST came from pod B's address on the wire (network, no process); sidecar A's upstream received it", () => {
    const t = only("reject");
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_UNTRACED);
    expect(t.resetOriginHop).toBe(2);
    expect(t.hops[1]!.resetBy).toBe("none");
    // The sender: the receiving socket's remote endpoint, B's pod (its sockets were seen at 10.88.0.3).
    expect(formatEndpoint(t.resetOrigin)).toBe("10.88.0.3:8080");
    expect(t.resetOrigin).toMatchObject({ role: Role.ROLE_NETWORK, pod: "tt-b", pid: 0, comm: "", socketId: "" });
    // The receiver, named separately.
    expect(formatEndpoint(t.resetReceiver)).toBe("10.88.0.2:41002");
    expect(t.resetReceiver).toMatchObject({ role: Role.ROLE_SIDECAR, pod: "tt-a", pid: 640, comm: "haproxy" });
    expect(t.explanation).toMatch(
      /^A RST from 10\.88\.0\.3:8080 \(pod tt-b, network: no traced socket sent it, [^)]*\) reached sidecar tt-a \(haproxy pid 640\) on hop 2; /,
    );
  });

  it("middlebox towards an address no traced socket ever had: the sender has an address, no pod", () => {
    const t = only("middlebox-unknown");
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_UNTRACED);
    expect(t.resetOriginHop).toBe(1);
    expect(formatEndpoint(t.resetOrigin)).toBe("203.0.113.7:443");
    expect(t.resetOrigin).toMatchObject({ role: Role.ROLE_NETWORK, pod: "", pid: 0, comm: "" });
    expect(formatEndpoint(t.resetReceiver)).toBe("10.88.0.4:52010");
    expect(t.resetReceiver).toMatchObject({ role: Role.ROLE_APP, pod: "tt-c", pid: 1014, comm: "node" });
    expect(t.explanation).toMatch(/^A RST from 203\.0\.113\.7:443 \(network: no traced socket sent it, [^)]*\) reached app node \(pid 1014, lab\/tt-c\) on hop 1\.$/);
  });

  it("middlebox towards a pod address the stitcher has seen: the sender's pod is named", () => {
    const { traces } = stitch(fixture("middlebox-known-pod"));
    const t = traces.find((x) => x.hops[0]?.client?.pod === "tt-c")!;
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_UNTRACED);
    expect(formatEndpoint(t.resetOrigin)).toBe("10.88.0.3:9443");
    expect(t.resetOrigin).toMatchObject({ role: Role.ROLE_NETWORK, pod: "tt-b", pid: 0, comm: "" });
    expect(t.resetReceiver).toMatchObject({ role: Role.ROLE_APP, pod: "tt-c", pid: 1014 });
    expect(t.explanation).toMatch(/^A RST from 10\.88\.0\.3:9443 \(pod tt-b, network: /);
  });

  it("idle-timeout: sidecar A sent the first FIN on both of its legs after 2 s of quiet: its idle timeout", () => {
    const t = only("idle-timeout");
    expect(t.outcome).toBe(Outcome.OUTCOME_COMPLETED);
    expect(t.hops.map((h) => h.firstFinBy)).toEqual(["server", "client", "client"]);
    expect([t.firstCloseHop, t.firstCloseBy]).toEqual([1, "server"]);
    expect(t.explanation).toContain("; sidecar tt-a closed the idle connection to app tt-a on hop 1 after 2.0 s (proxy idle timeout), ");
  });

  it("idle-timeout with the sidecars' timeout configured: compared with it, and not called one when far from it", () => {
    expect(only("idle-timeout", { proxyIdleTimeoutMs: 2000 }).explanation).toContain(
      "sidecar tt-a closed the idle connection to app tt-a on hop 1: 2.0 s idle vs the configured timeout 2 s (proxy idle timeout), ",
    );
    const far = only("idle-timeout", { proxyIdleTimeoutMs: [30_000, 60_000] }).explanation;
    expect(far).toContain("sidecar tt-a closed first with a FIN on hop 1 after 2.0 s without events, far from the configured idle timeout 30 s or 60 s");
    expect(far).not.toMatch(/proxy idle timeout|closed the idle connection/);
  });

  it("idle-timeout whose sidecar resets after its FIN: still its idle timeout, measured to the FIN", () => {
    const recs = scenarioIdleTimeoutThenAbort(2000);
    const t = stitch(recs).traces[0]!;
    expect(t.outcome).toBe(Outcome.OUTCOME_RESET_BY_CLIENT);
    expect([t.resetOriginHop, t.resetOrigin?.role, t.resetOrigin?.pod]).toEqual([3, Role.ROLE_SIDECAR, "tt-b"]);
    expect(t.explanation).toMatch(
      /^Sidecar tt-b \(haproxy pid 741\) closed the idle connection to app tt-b on hop 3 after 2\.0 s \(proxy idle timeout\), then reset it \(kernel reason TCP_STATE\); /,
    );
    const configured = stitch(recs, { proxyIdleTimeoutMs: [30_000, 2000] }).traces[0]!.explanation;
    expect(configured).toContain("closed the idle connection to app tt-b on hop 3: 2.0 s idle vs the configured timeout 2 s (proxy idle timeout), then reset it (kernel reason TCP_STATE)");
    // Its RST right after its own FIN is no quiet stretch of its own: without the FIN, no idle timeout.
    const quick = stitch(scenarioIdleTimeoutThenAbort(30)).traces[0]!.explanation;
    expect(quick).toMatch(/^Sidecar tt-b \(haproxy pid 741\) reset the connection to app tt-b on hop 3 \(kernel reason TCP_STATE\)/);
    expect(quick).not.toMatch(/idle/);
  });

  it("a sidecar closing first right after traffic is not an idle timeout", () => {
    const { traces } = stitch(scenarioIdleTimeout(30));
    expect(traces[0]!.explanation).toContain("sidecar tt-a closed first with a FIN on hop 1, ");
    expect(traces[0]!.explanation).not.toMatch(/idle/);
  });

  it("plain-to-mesh: no client sidecar, two hops, redirect on the inbound side only", () => {
    const t = only("plain-to-mesh");
    expect(t.outcome).toBe(Outcome.OUTCOME_COMPLETED);
    expect(chain(t)).toEqual(["10.88.0.4:52001>10.88.0.3:15006", "127.0.0.6:41003>10.88.0.3:8080"]);
    expect(t.hops.map((h) => formatEndpoint(h.originalDestination))).toEqual(["10.88.0.3:8080", "10.88.0.3:8080"]);
    expect(t.hops[0]!.client!.pod).toBe("tt-c");
  });
});
