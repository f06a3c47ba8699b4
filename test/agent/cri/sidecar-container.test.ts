// The sidecar told by its container's name, not its UID: a private
// containerd (its CRI plugin, bridge CNI) runs a pod with two containers made
// through CRI CreateContainer/StartContainer, "istio-proxy" and "app", both
// running as UID 1000 (not the sidecar UID 1337) and dialing a listener in a
// second pod. The real agent (bpftrace, its pipeline worker with the CRI
// resolver of --pod-resolver cri and the default --sidecar-containers)
// publishes to a real nats-server: the istio-proxy process's sockets are the
// sidecar's upstreams, the app's and the listener's are apps'. Root only.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CriPodResolver, containerIdOfCgroup, sandboxNetnsInode, sandboxNetns } from "../../../src/agent/cri/mod.js";
import { silentLogger } from "../../../src/log/logger.js";
import { EventKind, Role, SidecarLeg, type ConnEvent } from "../../../src/model/mod.js";
import { startAgentService, type AgentService } from "../../../src/runtime/mod.js";
import { subscribeEvents, type EventSubscription } from "../../../src/transport/mod.js";
import { describeRoot, setupNats, waitFor, type NatsSetup } from "../../helpers/mod.js";
import { containerdMissing, startPrivateContainerd, type PrivateContainerd } from "./private-containerd.js";
import { buildTtnetImage } from "./ttnet-image.js";

// Skipped, saying why, only when containerd is not installed (deploy/setup.sh installs it).
const missing = containerdMissing();
const suite = missing === undefined ? describeRoot : describe.skip;

const node = `itest-cri-sidecar-${process.pid}`;
const IMAGE = "tcptrail.test/ttnet:1";
const PORT = 9080;
const UID = 1000;

suite(`sidecar role from the istio-proxy container (private containerd, real agent, nats-server)${missing ? ` — skipped: ${missing}` : ""}`, () => {
  let runtime: PrivateContainerd;
  let nats: NatsSetup;
  let service: AgentService;
  let sub: EventSubscription;
  const events: ConnEvent[] = [];

  beforeAll(async () => {
    runtime = await startPrivateContainerd("cri-sidecar");
    nats = await setupNats({ label: "cri-sidecar" });
    // No sidecarContainers given: the default (istio-proxy) is what is tested.
    service = await startAgentService({ natsUrl: nats.server.url, node, logger: silentLogger, agent: { podResolver: { mode: "cri", criSocket: runtime.socket } } });
    sub = await subscribeEvents(nats.nc, { node, follow: true, since: new Date(Date.now() - 60_000) });
    void (async () => {
      for await (const { batch } of sub) events.push(...batch.events);
    })();
  });

  afterAll(async () => {
    await sub?.close().catch(() => undefined);
    await service?.stop().catch(() => undefined);
    await nats?.close();
    await runtime?.stop();
  });

  test("the istio-proxy container's dials under UID 1000 are the sidecar's upstreams; the app container's, same UID, and the listener's stay apps'", async () => {
    await runtime.importImage(await buildTtnetImage(join(runtime.dir, "ttnet-image"), IMAGE));
    const reviews = await runtime.runPod({ namespace: "mesh", name: "reviews", uid: `uid-reviews-${process.pid}` });
    const status = await runtime.client.podSandboxStatus(reviews, true);
    const ip = status.status?.network?.ip ?? "";
    expect(ip).not.toBe("");
    const server = await runtime.runContainer(reviews, { name: "server", image: IMAGE, args: ["tt-server", "listen", String(PORT)], runAsUser: UID });

    const page = await runtime.runPod({ namespace: "mesh", name: "productpage", uid: `uid-productpage-${process.pid}` });
    const pageNetns = sandboxNetnsInode(sandboxNetns(await runtime.client.podSandboxStatus(page, true)) as { path?: string; pid?: number });
    expect(pageNetns).toBeDefined();
    const proxy = await runtime.runContainer(page, { name: "istio-proxy", image: IMAGE, args: ["tt-proxy", "dial", ip, String(PORT), "200"], runAsUser: UID });
    const app = await runtime.runContainer(page, { name: "app", image: IMAGE, args: ["tt-app", "dial", ip, String(PORT), "200"], runAsUser: UID });

    const byComm = (comm: string) => events.filter((e) => e.owner?.comm === comm);
    const connects = (comm: string) => byComm(comm).filter((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_CONNECT && e.remote?.port === PORT);
    // A few dials each, and their closes (a socket's last events) out too.
    await waitFor(() => connects("tt-proxy").length >= 3 && connects("tt-app").length >= 3 && byComm("tt-server").some((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_CLOSE), {
      what: "three dials from each of istio-proxy and app, and the listener closing one",
      timeoutMs: 30_000,
    });

    // The processes really run as UID 1000, in the containers the runtime made: their cgroups name the ids CreateContainer returned.
    const pidOf = (comm: string) => byComm(comm)[0]!.owner!.pid!;
    const cgroupId = (pid: number) => containerIdOfCgroup(readFileSync(`/proc/${pid}/cgroup`, "utf8"));
    expect([cgroupId(pidOf("tt-proxy")), cgroupId(pidOf("tt-app")), cgroupId(pidOf("tt-server"))]).toEqual([proxy, app, server]);

    const describe = (e: ConnEvent) => `${e.seq} kind ${e.kind} sock ${e.sock} role ${e.role} leg ${e.leg} uid ${e.uid}`;
    // Every event of the proxy's sockets, the first dial's included (a container
    // the resolver had not listed holds the release until it has).
    const proxyEvents = byComm("tt-proxy");
    expect(proxyEvents.filter((e) => e.role !== Role.ROLE_SIDECAR || e.leg !== SidecarLeg.SIDECAR_LEG_UPSTREAM || e.uid !== UID).map(describe)).toEqual([]);
    const appEvents = byComm("tt-app");
    expect(appEvents.filter((e) => e.role !== Role.ROLE_APP || e.uid !== UID).map(describe)).toEqual([]);
    expect(byComm("tt-server").filter((e) => e.role !== Role.ROLE_APP).map(describe)).toEqual([]);
    // Nothing of the pod's went out without an owner (and so without the container rule).
    const ownerless = events.filter((e) => e.netns === pageNetns && e.kind !== EventKind.EVENT_KIND_GAP && !e.owner);
    expect(ownerless.map(describe)).toEqual([]);

    // The resolver on its own, against the real ListContainers and the real cgroups.
    const resolver = new CriPodResolver({ socket: runtime.socket, hostName: node });
    try {
      await resolver.ready();
      for (const [comm, name, sidecar] of [
        ["tt-proxy", "istio-proxy", true],
        ["tt-app", "app", false],
        ["tt-server", "server", false],
      ] as const) {
        const pid = pidOf(comm);
        expect(resolver.noteProcess(pid), `${name} is listed already: nothing to wait for`).toBe(false);
        expect([resolver.containerNameOf(pid), resolver.isSidecarProcess(pid)]).toEqual([name, sidecar]);
      }
      // This test's own process is in no container.
      resolver.noteProcess(process.pid);
      expect([resolver.containerNameOf(process.pid), resolver.isSidecarProcess(process.pid)]).toEqual(["", false]);
    } finally {
      resolver.close();
    }
  });
});
