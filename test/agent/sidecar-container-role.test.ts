// A socket whose owner process runs in the sidecar's container is the
// sidecar's, whatever its UID: the pipeline asks its resolver about a pid as
// the process-context line arrives (once), classifies at release, and tells
// the resolver when the probe reports the process's exit. Probe lines in, the
// in-thread pipeline, a resolver that knows two processes' containers.
import { describe, expect, test } from "vitest";
import { EventPipeline, type PodResolver } from "../../src/agent/mod.js";
import { EventKind, Role, SidecarLeg, type ConnEventInit } from "../../src/model/mod.js";

const NETNS = 4026532999;
// Two processes, both UID 1000 (not the sidecar UID): pid 100 in the istio-proxy container, pid 200 in the app's.
const connect = (ts: number, sk: string, pid: number, sport: number, comm: string) =>
  `C ${ts} ${sk} ${pid} ${pid} 0 5 4 10.0.0.9 8080 1 6 ${ts - 2000} ${ts - 1000} 4 10.0.0.5 ${sport} 10.0.0.9 8080 ${NETNS} 1000 ${comm}`;

function resolver() {
  const noted: number[] = [];
  const exited: number[] = [];
  const sidecars = new Set([100]);
  const r: PodResolver = {
    resolve: (netns) => (netns === NETNS ? "shop/web" : ""),
    noteProcess: (pid) => {
      noted.push(pid);
      return false; // known at once: nothing to hold for
    },
    isSidecarProcess: (pid) => sidecars.has(pid),
    processExited: (pid) => void exited.push(pid),
  };
  return { r, noted, exited };
}

describe("sidecar role from the owner's container", () => {
  test("the istio-proxy container's dial is the sidecar's upstream, the app's stays the app's, both UID 1000", async () => {
    const { r, noted, exited } = resolver();
    const out: ConnEventInit[] = [];
    const p = new EventPipeline({ settings: { node: "n1" }, sink: (evs) => out.push(...evs), pods: r });
    p.feedLine("B 1000000");
    p.feedLine(connect(2_000_000, "ffff0001", 100, 40001, "envoy"));
    p.feedLine(connect(2_100_000, "ffff0002", 200, 40002, "python3"));
    p.feedLine("X 2200000 ffff0001 100 100 5 envoy");
    p.feedLine("P 2300000 100");
    await p.stop();
    const proxy = out.filter((e) => e.sock === "ffff0001");
    const app = out.filter((e) => e.sock === "ffff0002");
    expect(proxy.length).toBeGreaterThan(0);
    expect(app.length).toBeGreaterThan(0);
    // Every event of the proxy's socket, its folded opening included.
    expect(proxy.map((e) => [e.kind, e.role, e.leg, e.uid])).toEqual(proxy.map((e) => [e.kind, Role.ROLE_SIDECAR, SidecarLeg.SIDECAR_LEG_UPSTREAM, 1000]));
    expect(app.map((e) => e.role)).toEqual(app.map(() => Role.ROLE_APP));
    expect(proxy.some((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_CONNECT)).toBe(true);
    // Asked as each process-context line arrived; the exit went to the resolver.
    expect(noted).toEqual([100, 200, 100]);
    expect(exited).toEqual([100]);
  });

  test("without a resolver that knows containers the UID rule alone decides (UID 1000 is an app)", async () => {
    const out: ConnEventInit[] = [];
    const p = new EventPipeline({ settings: { node: "n1" }, sink: (evs) => out.push(...evs), pods: { resolve: () => "shop/web" } });
    p.feedLine("B 1000000");
    p.feedLine(connect(2_000_000, "ffff0001", 100, 40001, "envoy"));
    p.feedLine("P 2300000 100");
    await p.stop();
    expect(out.length).toBeGreaterThan(0);
    expect(out.map((e) => e.role)).toEqual(out.map(() => Role.ROLE_APP));
  });
});
