// Where a pod sandbox's network namespace is, from its verbose CRI status.
// The CRI has no field for it: runtimes put it in the free-form `info` map
// of PodSandboxStatus(verbose=true). containerd's (and CRI-O's) `info` entry
// is JSON with the sandbox's OCI runtime spec, whose
// linux.namespaces[type=network].path is the namespace's bind mount, and the
// sandbox's pid, whose /proc/<pid>/ns/net is the same namespace while the
// pause process lives (KubeSkoop reads the same two).
import { runtime } from "../../gen/cri.js";

/** How to find a sandbox's network namespace. */
export type SandboxNetns =
  /** hostNetwork: the node's own namespace, shared by every such pod and the node. */
  | { kind: "host" }
  /** Its own namespace: a bind-mount path and/or the pid of a process in it (either may be missing). */
  | { kind: "pod"; path?: string; pid?: number };

interface SpecNamespace {
  type?: unknown;
  path?: unknown;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** The runtime's `info` JSON entries that parse as objects (runtimes differ in key names; "info" is containerd's and CRI-O's). */
function infoObjects(info: Record<string, string> | null | undefined): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const entries = Object.entries(info ?? {}).sort(([a], [b]) => (a === "info" ? -1 : b === "info" ? 1 : a.localeCompare(b)));
  for (const [, text] of entries) {
    try {
      const v: unknown = JSON.parse(text);
      if (isRecord(v)) out.push(v);
    } catch {
      // not JSON: nothing to read in it
    }
  }
  return out;
}

/** The network namespace entry of an OCI runtime spec, if it names one. */
function specNetnsPath(spec: unknown): string | undefined {
  if (!isRecord(spec) || !isRecord(spec.linux) || !Array.isArray(spec.linux.namespaces)) return undefined;
  for (const ns of spec.linux.namespaces as SpecNamespace[]) {
    if (isRecord(ns) && ns.type === "network" && typeof ns.path === "string" && ns.path !== "") return ns.path;
  }
  return undefined;
}

/** Where the sandbox's network namespace is, as far as its status says. */
export function sandboxNetns(status: runtime.v1.PodSandboxStatusResponse.$Properties): SandboxNetns {
  // The CRI's own word first: a runtime need not repeat it in its info.
  if (status.status?.linux?.namespaces?.options?.network === runtime.v1.NamespaceMode.NODE) return { kind: "host" };
  let path: string | undefined;
  let pid: number | undefined;
  for (const info of infoObjects(status.info)) {
    path ??= specNetnsPath(info.runtimeSpec);
    if (pid === undefined && typeof info.pid === "number" && Number.isInteger(info.pid) && info.pid > 0) pid = info.pid;
  }
  return { kind: "pod", ...(path !== undefined ? { path } : {}), ...(pid !== undefined ? { pid } : {}) };
}
