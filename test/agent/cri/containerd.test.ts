// Pods named by a real container runtime: a private containerd with its CRI
// plugin and the bridge CNI plugin, pod sandboxes made through the CRI with
// namespace, name, uid and labels, a listener and a client run inside their
// network namespaces, and the real agent (bpftrace, its pipeline worker with
// the CRI resolver chosen by --pod-resolver cri) naming both in the events it
// publishes to a real nats-server. Root only.
import { statSync } from "node:fs";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CriPodResolver, sandboxNetns } from "../../../src/agent/cri/mod.js";
import { silentLogger } from "../../../src/log/logger.js";
import { EventKind, type ConnEvent, type Trace } from "../../../src/model/mod.js";
import { startAgentService, type AgentService } from "../../../src/runtime/mod.js";
import { Stitcher } from "../../../src/trace/mod.js";
import { subscribeEvents, type EventSubscription } from "../../../src/transport/mod.js";
import { describeRoot, setupNats, waitFor, type NatsSetup } from "../../helpers/mod.js";
import { containerdMissing, removePod, startPrivateContainerd, type PrivateContainerd } from "./private-containerd.js";

// Skipped, saying why, only when containerd is not installed (deploy/setup.sh installs it).
const missing = containerdMissing();
const suite = missing === undefined ? describeRoot : describe.skip;

const node = `itest-cri-${process.pid}`;
const PORT = 18080;
const LISTENER = [
  "import socket, sys",
  `s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('0.0.0.0', ${PORT})); s.listen(8)`,
  "print('ready', flush=True)",
  "while True:",
  "    c, _ = s.accept(); c.recv(100); c.sendall(b'pong'); c.close()",
].join("\n");
const CLIENT = ["import socket, sys", `c = socket.create_connection((sys.argv[1], ${PORT}), timeout=5)`, "c.sendall(b'ping'); c.recv(100); c.close()"].join("\n");

interface Pod {
  id: string;
  ip: string;
  netnsPath: string;
  ino: number;
}

suite(`pods named by containerd over CRI (private containerd, real agent, nats-server)${missing ? ` — skipped: ${missing}` : ""}`, () => {
  let runtime: PrivateContainerd;
  let nats: NatsSetup;
  let service: AgentService;
  let sub: EventSubscription;
  let listener: ResultPromise | undefined;
  const events: ConnEvent[] = [];

  async function pod(namespace: string, name: string, labels: Record<string, string>): Promise<Pod> {
    const id = await runtime.runPod({ namespace, name, uid: `uid-${name}-${process.pid}`, labels });
    const status = await runtime.client.podSandboxStatus(id, true);
    const where = sandboxNetns(status);
    if (where.kind !== "pod" || where.path === undefined) throw new Error(`${namespace}/${name}: containerd reported no network namespace path`);
    return { id, ip: status.status?.network?.ip ?? "", netnsPath: where.path, ino: statSync(where.path).ino };
  }

  beforeAll(async () => {
    runtime = await startPrivateContainerd("cri-containerd");
    nats = await setupNats({ label: "cri-containerd" });
    // --pod-resolver cri --cri-socket <ours>: the worker pipeline builds the resolver.
    service = await startAgentService({ natsUrl: nats.server.url, node, logger: silentLogger, agent: { podResolver: { mode: "cri", criSocket: runtime.socket } } });
    sub = await subscribeEvents(nats.nc, { node, follow: true, since: new Date(Date.now() - 60_000) });
    void (async () => {
      for await (const { batch } of sub) events.push(...batch.events);
    })();
  });

  afterAll(async () => {
    listener?.kill("SIGKILL");
    await listener?.catch(() => undefined);
    await sub?.close().catch(() => undefined);
    await service?.stop().catch(() => undefined);
    await nats?.close();
    await runtime?.stop();
  });

  test("a listener and a client in two pods made during the run: every event of their sockets names namespace/pod with its labels, and so does the stitched trace", async () => {
    const web = await pod("shop", "web", { app: "web", tier: "front" });
    const client = await pod("shop", "client", { app: "client" });
    expect(web.ip).not.toBe("");
    expect(web.ino).not.toBe(client.ino);

    listener = execa("nsenter", [`--net=${web.netnsPath}`, "python3", "-S", "-c", LISTENER], { reject: false });
    await new Promise<void>((resolve, reject) => {
      listener!.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
      void listener!.then((r) => reject(new Error(`listener exited: ${r.stderr}`)));
    });
    await execa("nsenter", [`--net=${client.netnsPath}`, "python3", "-S", "-c", CLIENT, web.ip]);

    const accepted = await waitFor(() => events.find((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_ACCEPT && e.netns === web.ino && e.local?.port === PORT), {
      what: "the accept in shop/web",
    });
    const connected = await waitFor(
      () => events.find((e) => e.kind === EventKind.EVENT_KIND_STATE_CHANGE && e.netns === client.ino && e.remote?.ip === web.ip && e.remote?.port === PORT),
      { what: "a state change of shop/client's socket" },
    );
    expect(accepted.pod).toBe("shop/web");
    expect(connected.pod).toBe("shop/client");
    // The accepted socket's close, in softirq or process context, names the pod too.
    await waitFor(() => events.some((e) => e.sock === accepted.sock && e.kind === EventKind.EVENT_KIND_SYSCALL_CLOSE), { what: "the listener closing its connection" });
    // The resolver learns of a pod by a resync, and the first event of a pod it
    // has not seen yet starts one as it arrives (the CRI is a socket away)
    // while the agent holds the release: so even a pod's very first events are
    // named, by the right name, with the labels its batch's pod directory lists.
    const want = [
      [web.ino, "shop/web", { app: "web", tier: "front" }],
      [client.ino, "shop/client", { app: "client" }],
    ] as const;
    for (const [ino, name, labels] of want) {
      const inPod = events.filter((e) => e.netns === ino).sort((a, b) => a.seq - b.seq);
      expect(inPod.length, `events of ${name}`).toBeGreaterThan(0);
      expect(inPod.filter((e) => e.pod !== name).map((e) => `${e.seq} kind ${e.kind} pod "${e.pod}"`)).toEqual([]);
      const sorted = (l: object | undefined) => JSON.stringify(Object.entries(l ?? {}).sort());
      expect(inPod.filter((e) => sorted(e.podLabels) !== sorted(labels)).map((e) => `${e.seq} ${JSON.stringify(e.podLabels)}`)).toEqual([]);
    }

    // The real stitcher on what was published: one trace client → web, both ends named and labelled.
    const traces: Trace[] = [];
    const stitcher = new Stitcher({ onTrace: (t) => void traces.push(t) });
    stitcher.ingest(node, [...events].sort((a, b) => a.seq - b.seq));
    stitcher.flush();
    const hop = traces.flatMap((t) => t.hops).find((h) => h.client?.pod === "shop/client" && h.server?.pod === "shop/web");
    expect(hop, "a hop from shop/client to shop/web").toBeDefined();
    expect(hop!.client!.labels).toEqual({ app: "client" });
    expect(hop!.server!.labels).toEqual({ app: "web", tier: "front" });

    // Labels (for filters) and uid: what the resolver knows of each namespace.
    const resolver = new CriPodResolver({ socket: runtime.socket, hostName: node });
    try {
      await resolver.ready();
      expect(resolver.describe(web.ino)).toMatchObject({ namespace: "shop", name: "web", uid: `uid-web-${process.pid}`, labels: { app: "web", tier: "front" }, hostNetwork: false });
      expect(resolver.describe(client.ino)?.labels).toEqual({ app: "client" });
    } finally {
      resolver.close();
    }
  });

  test("a hostNetwork pod is named as the node (not guessed); a removed pod keeps its name while its sockets close", async () => {
    const resolver = new CriPodResolver({ socket: runtime.socket, hostName: node });
    try {
      const hostIno = statSync("/proc/self/ns/net").ino;
      const gone = await pod("batch", "job", { app: "job" });
      await runtime.runPod({ namespace: "kube-system", name: "node-exporter", uid: "uid-ne", labels: { app: "ne" }, hostNetwork: true });
      await resolver.sync();
      expect(resolver.hostNetworkPods().map((p) => `${p.namespace}/${p.name}`)).toContain("kube-system/node-exporter");
      expect(resolver.resolve(hostIno)).toBe(node);
      expect(resolver.resolve(gone.ino)).toBe("batch/job");

      await removePod(runtime.client, gone.id);
      await resolver.sync();
      expect(resolver.pods().map((p) => p.name)).not.toContain("job");
      expect(resolver.resolve(gone.ino)).toBe("batch/job");
      expect(resolver.describe(gone.ino)?.labels).toEqual({ app: "job" });
    } finally {
      resolver.close();
    }
  });
});
