// A network namespace's inode (what the probes report as netns) from a path
// or a pid. A bind-mounted namespace file has the nsfs device; the same path
// seen from a mount namespace the bind mount did not reach (an agent in a
// container without the runtime's netns directory) is a plain empty file, and
// its inode must not be taken for the namespace's.
import { statSync } from "node:fs";

/** The nsfs device, learned from our own namespace; undefined without procfs. */
function nsfsDevice(): number | undefined {
  for (const p of ["/proc/self/ns/net", "/proc/thread-self/ns/net"]) {
    try {
      return statSync(p).dev;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

const NSFS_DEV = nsfsDevice();

/** The inode of the namespace at `path` (a bind mount or /proc/<pid>/ns/net), or undefined when it is not one. */
export function netnsInodeOf(path: string): number | undefined {
  try {
    const st = statSync(path);
    if (NSFS_DEV !== undefined && st.dev !== NSFS_DEV) return undefined;
    return st.ino;
  } catch {
    return undefined;
  }
}

/** The first of a sandbox's ways to its namespace that works: its bind mount, else its pid's (the agent runs with hostPID). */
export function sandboxNetnsInode(where: { path?: string; pid?: number }, procDir = "/proc"): number | undefined {
  const byPath = where.path !== undefined ? netnsInodeOf(where.path) : undefined;
  if (byPath !== undefined) return byPath;
  return where.pid !== undefined ? netnsInodeOf(`${procDir}/${where.pid}/ns/net`) : undefined;
}

/** This process's network namespace inode (the node's, for an agent in the host namespace). */
export function ownNetnsInode(): number | undefined {
  return netnsInodeOf("/proc/self/ns/net");
}
