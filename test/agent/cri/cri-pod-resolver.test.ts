// The CRI pod resolver against a CRI server generated from the same proto
// (fake-runtime.ts): names, the pid fallback, hostNetwork, resync at once on
// an unknown inode (and not on every event of one that is never a pod),
// tombstones, an outage; and the choice between CRI and /run/netns. Real
// network namespaces (unshare --net) for the inodes: root only for those.
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { CriCallError, CriPodResolver, choosePodResolver, createPodResolver, isCriCallError } from "../../../src/agent/cri/mod.js";
import { NetnsDirResolver } from "../../../src/agent/pod-resolver.js";
import { describeRoot, makeTempDir, waitFor, type TempDir } from "../../helpers/mod.js";
import { FakeRuntime } from "./fake-runtime.js";

const NODE = "node-1";
const HOUR = 3_600_000;

/** A network namespace held open by a sleeping process: its inode, and /proc/<pid>/ns/net as its path. */
interface Netns {
  pid: number;
  path: string;
  ino: number;
  proc: ResultPromise;
}

const holders: ResultPromise[] = [];

async function newNetns(): Promise<Netns> {
  const proc = execa("unshare", ["--net", "sh", "-c", "echo ready; exec sleep 600"], { reject: false });
  holders.push(proc);
  await new Promise<void>((resolve) => proc.stdout!.once("data", () => resolve()));
  const path = `/proc/${proc.pid}/ns/net`;
  return { pid: proc.pid!, path, ino: statSync(path).ino, proc };
}

let tmp: TempDir;
let socket: string;
let fake: FakeRuntime;
const resolvers: CriPodResolver[] = [];

function resolver(o: Partial<ConstructorParameters<typeof CriPodResolver>[0]> = {}): CriPodResolver {
  const r = new CriPodResolver({ socket, hostName: NODE, resyncMs: HOUR, ...o });
  resolvers.push(r);
  return r;
}

beforeEach(async () => {
  tmp = await makeTempDir("cri-fake");
  socket = join(tmp.path, "cri.sock");
  fake = new FakeRuntime();
  await fake.listen(socket);
});

afterEach(async () => {
  for (const r of resolvers.splice(0)) r.close();
  await fake.close();
  await tmp.remove();
});

afterAll(() => {
  for (const p of holders) p.kill("SIGKILL");
});

describeRoot("CriPodResolver (a CRI server from the same proto, real namespaces)", () => {
  let web: Netns;
  let db: Netns;
  let job: Netns;
  const hostIno = statSync("/proc/self/ns/net").ino;

  beforeAll(async () => {
    [web, db, job] = await Promise.all([newNetns(), newNetns(), newNetns()]);
  });

  test("names each namespace namespace/pod (by the spec's path, or by the sandbox pid), the host as the node, hostNetwork pods as the node", async () => {
    fake.add({ id: "s-web", namespace: "shop", name: "web", uid: "u1", labels: { app: "web" }, netnsPath: web.path });
    fake.add({ id: "s-db", namespace: "shop", name: "db", uid: "u2", labels: { app: "db" }, pid: db.pid });
    fake.add({ id: "s-ne", namespace: "kube-system", name: "node-exporter", uid: "u3", hostNetwork: true });
    fake.add({ id: "s-old", namespace: "shop", name: "old", uid: "u4", netnsPath: job.path, notReady: true });
    const r = resolver();
    await r.ready();
    expect(r.resolve(web.ino)).toBe("shop/web");
    expect(r.resolve(db.ino)).toBe("shop/db");
    expect(r.resolve(hostIno)).toBe(NODE);
    // A sandbox that is not ready (stopped) names nothing.
    expect(r.resolve(job.ino)).toBe("");
    expect(r.describe(web.ino)).toEqual({ sandboxId: "s-web", namespace: "shop", name: "web", uid: "u1", labels: { app: "web" }, hostNetwork: false });
    expect(r.hostNetworkPods().map((p) => p.name)).toEqual(["node-exporter"]);
    expect(r.describe(hostIno)).toBeUndefined();
  });

  test("an unknown inode resyncs at once (no timer); known sandboxes are not asked about again", async () => {
    fake.add({ id: "s-web", namespace: "shop", name: "web", uid: "u1", netnsPath: web.path });
    const r = resolver();
    await r.ready();
    expect(fake.calls).toMatchObject({ list: 1, status: 1 });
    fake.add({ id: "s-db", namespace: "shop", name: "db", uid: "u2", netnsPath: db.path });
    // The first event of the new pod: not known yet, and it starts a resync.
    expect(r.resolve(db.ino)).toBe("");
    await waitFor(() => r.resolve(db.ino) === "shop/db", { what: "the new pod named after the resync its first event started" });
    expect(fake.calls.list).toBe(2);
    expect(fake.calls.status).toBe(2); // s-web's status was not asked again
  });

  test("a namespace that is never a pod's does not make every event ask the runtime: the resyncs it starts back off", async () => {
    let now = 1_000_000;
    const r = resolver({ now: () => now, missRetryMs: 50, maxMissRetryMs: 400 });
    await r.ready();
    for (let i = 0; i < 100; i++) expect(r.resolve(job.ino)).toBe("");
    await r.sync(); // settles the one resync they started (and runs one more)
    const after = fake.calls.list;
    expect(after).toBeLessThanOrEqual(3);
    for (let i = 0; i < 100; i++) r.resolve(job.ino);
    await r.sync();
    expect(fake.calls.list).toBe(after + 1); // only this explicit one: still within the back-off
    now += 50;
    r.resolve(job.ino);
    await waitFor(() => fake.calls.list === after + 2, { what: "the back-off ending in one more resync" });
  });

  test("a removed pod keeps its name and labels for tombstoneMs (FINs and RSTs cluster at teardown), then is forgotten", async () => {
    let now = 1_000_000;
    fake.add({ id: "s-job", namespace: "batch", name: "job", uid: "u5", labels: { app: "job" }, netnsPath: job.path });
    const r = resolver({ now: () => now, tombstoneMs: 60_000 });
    await r.ready();
    expect(r.resolve(job.ino)).toBe("batch/job");
    fake.pods.delete("s-job");
    await r.sync();
    expect(r.pods()).toEqual([]);
    expect(r.resolve(job.ino)).toBe("batch/job");
    expect(r.describe(job.ino)?.labels).toEqual({ app: "job" });
    now += 60_000;
    expect(r.resolve(job.ino)).toBe("");
    expect(r.describe(job.ino)).toBeUndefined();
  });

  test("an outage keeps what was known and rejects the resync with a CriCallError; the next one recovers", async () => {
    fake.add({ id: "s-web", namespace: "shop", name: "web", uid: "u1", netnsPath: web.path });
    const r = resolver();
    await r.ready();
    fake.down = true;
    const err = await r.sync().catch((e: unknown) => e);
    expect(isCriCallError(err) && err.method).toBe("ListPodSandbox");
    expect(r.resolve(web.ino)).toBe("shop/web");
    fake.down = false;
    fake.add({ id: "s-db", namespace: "shop", name: "db", uid: "u2", netnsPath: db.path });
    await r.sync();
    expect(r.resolve(db.ino)).toBe("shop/db");
  });
});

describe("CriPodResolver: processes in the sidecar's container (ListContainers, cgroups under a proc dir of the test's)", () => {
  const id = (c: string) => c.repeat(64);
  /** A proc dir whose <pid>/cgroup files put the pids in containers (cgroupfs layout, as containerd 1.6 without a parent). */
  function procDir(cgroups: Record<number, string>): string {
    const dir = join(tmp.path, "proc");
    for (const [pid, path] of Object.entries(cgroups)) {
      mkdirSync(join(dir, pid), { recursive: true });
      writeFileSync(join(dir, pid, "cgroup"), `4:memory:${path}\n0::/\n`);
    }
    return dir;
  }

  test("a pid in an istio-proxy container is the sidecar's, one in another container or none is not; an unlisted container resyncs once, then is known", async () => {
    fake.addContainer({ id: id("a"), podSandboxId: "s-page", name: "istio-proxy" });
    fake.addContainer({ id: id("b"), podSandboxId: "s-page", name: "app" });
    let now = 10_000;
    const r = resolver({ procDir: procDir({ 100: `/k8s.io/${id("a")}`, 200: `/k8s.io/${id("b")}`, 300: `/k8s.io/${id("c")}`, 400: "/system.slice/sshd.service" }), now: () => now });
    await r.ready();
    expect(fake.calls.containers).toBe(1);
    expect([r.noteProcess(100), r.isSidecarProcess(100), r.containerNameOf(100)]).toEqual([false, true, "istio-proxy"]);
    expect([r.noteProcess(200), r.isSidecarProcess(200), r.containerNameOf(200)]).toEqual([false, false, "app"]);
    expect([r.noteProcess(400), r.isSidecarProcess(400), r.containerNameOf(400)]).toEqual([false, false, ""]);
    // Never noted: not read on the release path.
    expect(r.isSidecarProcess(999)).toBe(false);

    // A container started since the last resync: the pipeline is told to hold, one resync lists it.
    fake.addContainer({ id: id("c"), podSandboxId: "s-page", name: "istio-proxy" });
    expect(r.noteProcess(300)).toBe(true);
    expect(r.pending()).toBe(true);
    expect(r.noteProcess(300)).toBe(false); // asked again at once: no second resync
    await waitFor(() => !r.pending(), { what: "the resync to end" });
    expect(fake.calls.containers).toBe(2);
    expect(r.isSidecarProcess(300)).toBe(true);

    // Its exit: the answer stays while its events are released, then goes.
    r.processExited(100);
    expect(r.isSidecarProcess(100)).toBe(true);
    now += 60_000;
    r.noteProcess(401); // a miss (no such pid) clears what exited long enough ago
    expect(r.isSidecarProcess(100)).toBe(false);
  });

  test("no sidecar container names: no ListContainers, no cgroup read, nobody is a sidecar by container", async () => {
    fake.addContainer({ id: id("a"), podSandboxId: "s-page", name: "istio-proxy" });
    const r = resolver({ procDir: procDir({ 100: `/k8s.io/${id("a")}` }), sidecarContainers: [] });
    await r.ready();
    expect([r.noteProcess(100), r.isSidecarProcess(100), fake.calls.containers]).toEqual([false, false, 0]);
  });
});

describe("choosing the pod resolver (--pod-resolver, --cri-socket)", () => {
  test("auto: CRI when the socket answers, else /run/netns; cri without an answer is an error; netns never asks", async () => {
    const absent = join(tmp.path, "absent.sock");
    await expect(choosePodResolver({ mode: "auto", criSocket: socket })).resolves.toEqual({ kind: "cri", socket });
    await expect(choosePodResolver({ criSocket: `unix://${socket}` })).resolves.toEqual({ kind: "cri", socket });
    // The sidecar's container names travel in the spec (to the pipeline worker that builds the resolver).
    await expect(choosePodResolver({ mode: "cri", criSocket: socket, sidecarContainers: ["linkerd-proxy"] })).resolves.toEqual({ kind: "cri", socket, sidecarContainers: ["linkerd-proxy"] });
    await expect(choosePodResolver({ mode: "auto", criSocket: absent })).resolves.toEqual({ kind: "netns" });
    await expect(choosePodResolver({ mode: "cri", criSocket: absent })).rejects.toBeInstanceOf(CriCallError);
    const before = fake.calls.version;
    await expect(choosePodResolver({ mode: "netns", criSocket: socket })).resolves.toEqual({ kind: "netns" });
    expect(fake.calls.version).toBe(before);
  });

  test("a socket whose server does not speak gRPC is not chosen", async () => {
    const other = join(tmp.path, "not-cri.sock");
    const server = createServer((s) => s.destroy());
    await new Promise<void>((resolve) => server.listen(other, resolve));
    try {
      await expect(choosePodResolver({ mode: "auto", criSocket: other }, { probeTimeoutMs: 500 })).resolves.toEqual({ kind: "netns" });
    } finally {
      server.close();
    }
  });

  test("the spec builds the resolver it names", () => {
    const cri = createPodResolver({ kind: "cri", socket }, NODE);
    const netns = createPodResolver({ kind: "netns", dir: tmp.path }, NODE);
    try {
      expect(cri).toBeInstanceOf(CriPodResolver);
      expect((cri as CriPodResolver).socket).toBe(socket);
      expect(netns).toBeInstanceOf(NetnsDirResolver);
    } finally {
      cri.close?.();
      netns.close?.();
    }
  });
});
