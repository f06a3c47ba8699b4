// Which container a process runs in, from its /proc/<pid>/cgroup: the CRI
// runtimes put each container in a cgroup named after its 64-hex id, the last
// component of the path under either cgroup driver:
//   systemd:  …/kubepods-burstable-pod<uid>.slice/cri-containerd-<id>.scope
//             (CRI-O: crio-<id>.scope; dockershim: docker-<id>.scope)
//   cgroupfs: /kubepods/burstable/pod<uid>/<id>, or /k8s.io/<id> when no
//             cgroup parent was given (containerd's namespace as the parent)
// The pod's own cgroup (pod<uid>) and the node's slices are never a
// container's; CRI-O's conmon runs beside its container in
// crio-conmon-<id>.scope and is not the container's process.
import { readFileSync } from "node:fs";

const ID = /^[0-9a-f]{64}$/;
/** systemd driver scopes: runtime prefix, the id, ".scope". */
const SCOPE = /^(?:cri-containerd|crio|docker|cri-o)-([0-9a-f]{64})\.scope$/;

/** The container id a cgroup path's components name (the deepest that is one), or undefined. */
export function containerIdOfCgroupPath(path: string): string | undefined {
  const parts = path.split("/");
  // Deepest first: a container may make cgroups of its own below its scope
  // (cgroup v2 with a nested init, systemd in a container).
  for (let i = parts.length - 1; i >= 0; i--) {
    const part = parts[i]!;
    if (part.length === 64 && ID.test(part)) return part;
    const m = SCOPE.exec(part);
    if (m) return m[1];
  }
  return undefined;
}

/**
 * The container id in the text of a /proc/<pid>/cgroup ("id:controllers:path"
 * per hierarchy; on cgroup v2 one "0::path" line), or undefined for a process
 * in no container (the node's services, a shell, the agent itself on a VM).
 * Under cgroup v1 with a hybrid systemd the unified "0::" line may stay at
 * "/" while the controllers' lines name the container: every line is read.
 */
export function containerIdOfCgroup(text: string): string | undefined {
  for (const line of text.split("\n")) {
    // The path is everything after the second colon (it may contain colons itself).
    const first = line.indexOf(":");
    const second = first < 0 ? -1 : line.indexOf(":", first + 1);
    if (second < 0) continue;
    const id = containerIdOfCgroupPath(line.slice(second + 1));
    if (id !== undefined) return id;
  }
  return undefined;
}

/**
 * The container of a live process: "" when it is in none, undefined when its
 * /proc entry cannot be read (it exited already, or /proc is not the node's).
 */
export function readContainerId(pid: number, procDir = "/proc"): string | undefined {
  let text: string;
  try {
    text = readFileSync(`${procDir}/${pid}/cgroup`, "utf8");
  } catch {
    return undefined;
  }
  return containerIdOfCgroup(text) ?? "";
}
