// A private containerd for the tests, with its CRI plugin: its own root,
// state, socket, CNI configuration (the bridge plugin from
// containernetworking-plugins) and sandbox image, under a temp dir. The
// system's /run/containerd and /var/lib/containerd are never touched:
// containerd 1.6 puts its shims' sockets under /run/containerd/s whatever its
// config says, so it runs in a mount namespace of its own with a private
// /run, while the temp dir is a shared mount, so that the pods' network
// namespaces it bind-mounts there (netns_mounts_under_state_dir) are seen
// from the host as a CNI's are on a node.
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { CriRuntimeClient } from "../../../src/agent/cri/mod.js";
import type { runtime } from "../../../src/gen/cri.js";
import { makeTempDir, waitFor, type TempDir } from "../../helpers/mod.js";
import { buildPauseImage } from "./pause-image.js";

/** Where Debian's containernetworking-plugins installs the CNI plugins. */
export const CNI_BIN_DIR = "/usr/lib/cni";
const PAUSE_IMAGE = "tcptrail.test/pause:1";

/** Whether containerd, ctr, runc and the bridge plugin are installed (deploy/setup.sh installs them). */
export function containerdMissing(): string | undefined {
  for (const bin of ["containerd", "ctr", "runc", "containerd-shim-runc-v2", "gcc"]) {
    try {
      execFileSync("sh", ["-c", `command -v ${bin}`], { stdio: "ignore" });
    } catch {
      return `${bin} is not installed (deploy/setup.sh installs containerd, runc and containernetworking-plugins)`;
    }
  }
  if (!existsSync(join(CNI_BIN_DIR, "bridge"))) return `${CNI_BIN_DIR}/bridge is missing (containernetworking-plugins)`;
  return undefined;
}

export interface PrivateContainerd {
  socket: string;
  /** Its temp dir (removed by stop()): room for the test's own files, e.g. images. */
  dir: string;
  client: CriRuntimeClient;
  /** The CNI bridge the pods are attached to. */
  bridge: string;
  /** Create a ready pod sandbox; removed by stop(). */
  runPod(p: { namespace: string; name: string; uid: string; labels?: Record<string, string>; hostNetwork?: boolean }): Promise<string>;
  /** Import an image tar (static-image.ts) into the CRI's namespace. */
  importImage(tar: string): Promise<void>;
  /** Create and start a container in a pod made by runPod; removed with its pod. */
  runContainer(podId: string, c: { name: string; image: string; args: string[]; runAsUser?: number }): Promise<string>;
  /** Remove every pod, stop containerd and its shims, unmount, delete the bridge and the temp dir. Safe to call after any failure. */
  stop(): Promise<void>;
}

/** Pids of processes whose command line contains `text`. */
function pidsWith(text: string): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(text)) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

/** Children of `pid` (a shim's are its sandboxes' pause processes). */
function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return out;
}

function kill(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // already gone
  }
}

/** Mount points at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((line) => line.split(" ")[4] ?? "")
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

export async function startPrivateContainerd(label: string): Promise<PrivateContainerd> {
  const tmp: TempDir = await makeTempDir(label);
  const dir = tmp.path;
  const socket = join(dir, "containerd.sock");
  const suffix = Math.floor(Math.random() * 0xffff).toString(16).padStart(4, "0");
  const bridge = `ttcri${suffix}`;
  const subnet = `10.${200 + Math.floor(Math.random() * 50)}.${Math.floor(Math.random() * 250)}.0/24`;
  const sandboxes: string[] = [];
  // CreateContainer wants the sandbox's own config again.
  const sandboxConfigs = new Map<string, runtime.v1.PodSandboxConfig.$Properties>();
  let containerd: ResultPromise | undefined;
  let client: CriRuntimeClient | undefined;

  const stop = async (): Promise<void> => {
    for (const id of sandboxes.splice(0)) {
      await client?.stopPodSandbox(id, 20_000).catch(() => undefined);
      await client?.removePodSandbox(id, 20_000).catch(() => undefined);
    }
    client?.close();
    // Shims outlive containerd by design: find them (and their pause
    // processes) by the socket address they were given, and kill them by pid.
    const shims = pidsWith(socket).filter((pid) => pid !== containerd?.pid);
    if (containerd?.pid !== undefined) kill(containerd.pid);
    for (const shim of shims) {
      for (const child of childrenOf(shim)) kill(child);
      kill(shim);
    }
    await containerd?.catch(() => undefined);
    for (const m of mountsUnder(dir)) {
      try {
        execFileSync("umount", ["-l", m], { stdio: "ignore" });
      } catch {
        // gone with its parent
      }
    }
    try {
      execFileSync("ip", ["link", "del", bridge], { stdio: "ignore" });
    } catch {
      // never created (no pod got a network) or already gone
    }
    await tmp.remove();
  };

  try {
    // The temp dir as a shared mount: what containerd mounts under it in its
    // own mount namespace (pod netns files, rootfs, shm) appears here too.
    execFileSync("mount", ["--bind", dir, dir]);
    execFileSync("mount", ["--make-shared", dir]);
    const image = await buildPauseImage(join(dir, "image"), PAUSE_IMAGE);
    mkdirSync(join(dir, "cni"));
    writeFileSync(
      join(dir, "cni", "10-tcptrail-test.conflist"),
      JSON.stringify({
        cniVersion: "0.4.0",
        name: `tcptrail-test-${suffix}`,
        plugins: [{ type: "bridge", bridge, isGateway: true, ipMasq: false, ipam: { type: "host-local", subnet, dataDir: join(dir, "ipam") } }],
      }),
    );
    const config = join(dir, "config.toml");
    writeFileSync(
      config,
      [
        "version = 2",
        `root = "${dir}/root"`,
        `state = "${dir}/state"`,
        'disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]',
        "[grpc]",
        `  address = "${socket}"`,
        "[ttrpc]",
        `  address = "${socket}.ttrpc"`,
        '[plugins."io.containerd.internal.v1.opt"]',
        `  path = "${dir}/opt"`,
        '[plugins."io.containerd.grpc.v1.cri"]',
        `  sandbox_image = "${PAUSE_IMAGE}"`,
        "  disable_apparmor = true",
        // The sandbox's oom_score_adj may not go below ours (a container or VM without CAP_SYS_RESOURCE refuses -998).
        "  restrict_oom_score_adj = true",
        "  netns_mounts_under_state_dir = true",
        '  stream_server_address = "127.0.0.1"',
        '  stream_server_port = "0"',
        '  [plugins."io.containerd.grpc.v1.cri".cni]',
        `    bin_dir = "${CNI_BIN_DIR}"`,
        `    conf_dir = "${dir}/cni"`,
        "    max_conf_num = 1",
        "",
      ].join("\n"),
    );
    // unshare execs sh, sh execs containerd: the pid we hold is containerd's.
    containerd = execa(
      "unshare",
      ["--mount", "--propagation", "unchanged", "sh", "-c", 'mount -t tmpfs -o mode=755 tmpfs /run && exec containerd --config "$0"', config],
      { reject: false, stdout: "ignore", stderr: { file: join(dir, "containerd.log") } },
    );
    client = new CriRuntimeClient({ socket, callTimeoutMs: 2000 });
    const c = client;
    await waitFor(() => c.version().then(() => true, () => false), { what: `containerd's CRI answering on ${socket}`, timeoutMs: 20_000 });
    await execa("ctr", ["-a", socket, "-n", "k8s.io", "images", "import", image]);
  } catch (err) {
    await stop();
    throw err;
  }

  const cri = client;
  return {
    socket,
    dir,
    client: cri,
    bridge,
    async runPod(p) {
      const config: runtime.v1.PodSandboxConfig.$Properties = {
        metadata: { name: p.name, namespace: p.namespace, uid: p.uid, attempt: 0 },
        // kubelet sets no hostname for a hostNetwork pod (it has no UTS namespace of its own).
        ...(p.hostNetwork ? {} : { hostname: p.name }),
        labels: p.labels ?? {},
        linux: p.hostNetwork ? { securityContext: { namespaceOptions: { network: 2 /* NODE */ } } } : {},
      };
      const id = await cri.runPodSandbox(config, 30_000);
      sandboxes.push(id);
      sandboxConfigs.set(id, config);
      return id;
    },
    async importImage(tar) {
      await execa("ctr", ["-a", socket, "-n", "k8s.io", "images", "import", tar]);
    },
    async runContainer(podId, c) {
      const sandboxConfig = sandboxConfigs.get(podId);
      if (sandboxConfig === undefined) throw new Error(`no pod ${podId} made by runPod`);
      const id = await cri.createContainer(
        podId,
        {
          metadata: { name: c.name, attempt: 0 },
          image: { image: c.image },
          args: c.args,
          ...(c.runAsUser !== undefined ? { linux: { securityContext: { runAsUser: { value: c.runAsUser } } } } : {}),
        },
        sandboxConfig,
        30_000,
      );
      // StopPodSandbox stops it and RemovePodSandbox removes it (stop() does both).
      await cri.startContainer(id, 30_000);
      return id;
    },
    stop,
  };
}

/** Remove a pod now (its tombstone is what the test looks at). */
export async function removePod(cri: CriRuntimeClient, id: string): Promise<void> {
  await cri.stopPodSandbox(id, 20_000);
  await cri.removePodSandbox(id, 20_000);
}
