// Names network namespaces after the pods the node's container runtime runs,
// asked over the CRI: ListPodSandbox for the ready sandboxes, then
// PodSandboxStatus(verbose) once per new sandbox for its metadata (namespace,
// name, uid), labels and network namespace (→ inode). On a Kubernetes node
// this is the only source: CNI plugins pin pod namespaces under names of
// their own (cni-<uuid>), if under /run/netns at all.
//
// resolve() is the agent's hot path and synchronous, while the CRI is a
// socket away: lookups read a map that resyncs run in the background, on a
// timer and at once when an event names an inode nobody knows (a pod that
// started since the last resync). That first event may go unnamed; the
// socket's later events ask again and get the name.
//
// The same resyncs ListContainers, so that a socket's owner process can be
// told to be the mesh's sidecar by its container's name (istio-proxy) when it
// does not run as the sidecar UID: the process's container id comes from its
// cgroup (process-containers.ts), read once per process.
import { silentLogger, type Logger } from "../../log/logger.js";
import type { PodLabels } from "../../model/mod.js";
import { runtime } from "../../gen/cri.js";
import { DEFAULT_MAX_MISS_RETRY_MS, DEFAULT_MISS_RETRY_MS, DEFAULT_TOMBSTONE_MS, type PodResolver } from "../pod-resolver.js";
import { ownNetnsInode, sandboxNetnsInode } from "./netns-inode.js";
import { ProcessContainers } from "./process-containers.js";
import { CriRuntimeClient } from "./runtime-client.js";
import { sandboxNetns } from "./sandbox-netns.js";

/** Full resync period: pods that start or end are noticed at least this often even when none of their sockets is seen. */
export const DEFAULT_CRI_RESYNC_MS = 10_000;

/** Containers whose processes are the mesh's sidecar, by name (the container in the pod spec). */
export const DEFAULT_SIDECAR_CONTAINER_NAMES: readonly string[] = Object.freeze(["istio-proxy"]);

/** What the runtime says about a pod. */
export interface PodIdentity {
  sandboxId: string;
  namespace: string;
  name: string;
  uid: string;
  labels: Readonly<Record<string, string>>;
  /** The pod uses the node's network namespace: its sockets cannot be told from the node's or other such pods'. */
  hostNetwork: boolean;
}

/** "namespace/name", the pod's name in events and traces. */
export function podName(p: Pick<PodIdentity, "namespace" | "name">): string {
  return p.namespace === "" ? p.name : `${p.namespace}/${p.name}`;
}

export interface CriPodResolverOptions {
  /** The runtime's CRI socket (containerd's or CRI-O's). */
  socket: string;
  /** Name for the host network namespace (hostNetwork pods included). Default: the node name the agent passes. */
  hostName: string;
  /** Full resync period. Default DEFAULT_CRI_RESYNC_MS (10 s). */
  resyncMs?: number;
  /** An unknown inode resyncs at once, then again only after this long, doubling per miss. Default DEFAULT_MISS_RETRY_MS (50 ms). */
  missRetryMs?: number;
  /** Cap of that doubling wait. Default DEFAULT_MAX_MISS_RETRY_MS (5 s). */
  maxMissRetryMs?: number;
  /** How long a removed pod keeps its name: FINs and RSTs cluster at teardown. Default DEFAULT_TOMBSTONE_MS (5 min). */
  tombstoneMs?: number;
  /** Each CRI call's deadline, ms. Default: the client's (DEFAULT_CRI_CALL_TIMEOUT_MS). */
  callTimeoutMs?: number;
  /** Where /proc is (the sandbox pid fallback, processes' cgroups). Default "/proc". */
  procDir?: string;
  /** Containers (by name) whose processes are the mesh sidecar whatever their UID. Default DEFAULT_SIDECAR_CONTAINER_NAMES (istio-proxy); [] for none. */
  sidecarContainers?: readonly string[];
  logger?: Logger;
  /** Clock in ms. Default Date.now; tests pass their own. */
  now?: () => number;
}

interface Known {
  identity: PodIdentity;
  /** Inode of its namespace; undefined for hostNetwork pods. */
  netns: number | undefined;
}

interface Miss {
  retryAt: number;
  delayMs: number;
}

interface Tombstone {
  identity: PodIdentity;
  expiresAt: number;
}

export class CriPodResolver implements PodResolver {
  readonly #client: CriRuntimeClient;
  readonly #hostName: string;
  readonly #hostNetns: number | undefined;
  readonly #missRetryMs: number;
  readonly #maxMissRetryMs: number;
  readonly #tombstoneMs: number;
  readonly #procDir: string;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;
  /** Ready sandboxes by id, as of the last resync: a sandbox's identity and namespace never change, so each is asked about once. */
  #sandboxes = new Map<string, Known>();
  /** The hot path's map: namespace inode → pod name. */
  #names = new Map<number, string>();
  #byNetns = new Map<number, PodIdentity>();
  readonly #tombstones = new Map<number, Tombstone>();
  readonly #misses = new Map<number, Miss>();
  readonly #sidecarNames: ReadonlySet<string>;
  readonly #processes: ProcessContainers;
  /** Container id → name, every container the runtime listed at the last resync. */
  #containers = new Map<string, string>();
  /** Ids of the containers named as sidecars: the release path's one lookup per event. */
  #sidecarIds = new Set<string>();
  /** Container ids a process was found in and the runtime did not list (yet): when each may resync again. */
  readonly #containerMisses = new Map<string, Miss>();
  #syncing: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  #firstSync: Promise<void>;
  #lastError = "";
  #syncs = 0;
  #closed = false;

  constructor(o: CriPodResolverOptions) {
    this.#client = new CriRuntimeClient({ socket: o.socket, ...(o.callTimeoutMs !== undefined ? { callTimeoutMs: o.callTimeoutMs } : {}) });
    this.#hostName = o.hostName;
    this.#hostNetns = ownNetnsInode();
    this.#missRetryMs = o.missRetryMs ?? DEFAULT_MISS_RETRY_MS;
    this.#maxMissRetryMs = Math.max(this.#missRetryMs, o.maxMissRetryMs ?? DEFAULT_MAX_MISS_RETRY_MS);
    this.#tombstoneMs = o.tombstoneMs ?? DEFAULT_TOMBSTONE_MS;
    this.#procDir = o.procDir ?? "/proc";
    this.#sidecarNames = new Set(o.sidecarContainers ?? DEFAULT_SIDECAR_CONTAINER_NAMES);
    this.#processes = new ProcessContainers({ procDir: this.#procDir, ...(o.now ? { now: o.now } : {}) });
    this.#log = o.logger ?? silentLogger;
    this.#now = o.now ?? Date.now;
    this.#firstSync = this.sync();
    // A failed first resync is logged like any other; ready() still tells the caller.
    this.#firstSync.catch(() => undefined);
    this.#timer = setInterval(() => this.#background(), o.resyncMs ?? DEFAULT_CRI_RESYNC_MS);
    this.#timer.unref();
  }

  /** The socket asked. */
  get socket(): string {
    return this.#client.socket;
  }

  /** How many resyncs have completed (the cost this class keeps low). */
  get syncs(): number {
    return this.#syncs;
  }

  /** Resolves after the first resync (rejects with its CriCallError if the runtime did not answer). */
  ready(): Promise<void> {
    return this.#firstSync;
  }

  resolve(netns: number): string {
    const name = this.#names.get(netns);
    if (name !== undefined) return name;
    // hostNetwork pods share this namespace with the node and each other: the
    // node's name is what can be said; which pod a socket is cannot.
    if (netns === this.#hostNetns) return this.#hostName;
    this.#onMiss(netns);
    const tomb = this.#tombstones.get(netns);
    return tomb !== undefined && this.#now() < tomb.expiresAt ? podName(tomb.identity) : "";
  }

  prefetch(netns: number): boolean {
    // The hot path: a known inode is one lookup. A removed pod's (tombstoned)
    // inode is not new: its closing sockets must not hold anything up.
    if (this.#names.has(netns) || netns === this.#hostNetns || this.#tombstones.has(netns)) return false;
    return this.#onMiss(netns);
  }

  pending(): boolean {
    return this.#syncing !== undefined || this.#queued !== undefined;
  }

  noteProcess(pid: number): boolean {
    // No names to look for: no /proc reads at all.
    if (this.#sidecarNames.size === 0) return false;
    const id = this.#processes.note(pid);
    // A container started since the last resync (or a sandbox's pause, never
    // listed as a container): ask the runtime, at most as often as misses allow.
    if (id === undefined || id === "" || this.#containers.has(id) || this.#sandboxes.has(id)) return false;
    return this.#onContainerMiss(id);
  }

  isSidecarProcess(pid: number): boolean {
    const id = this.#processes.containerOf(pid);
    return id !== undefined && id !== "" && this.#sidecarIds.has(id);
  }

  processExited(pid: number): void {
    this.#processes.exited(pid);
  }

  /** The name of the container pid runs in, as far as the cache and the last resync know ("" none or unknown). */
  containerNameOf(pid: number): string {
    const id = this.#processes.containerOf(pid);
    return id ? (this.#containers.get(id) ?? "") : "";
  }

  labels(netns: number): PodLabels | undefined {
    const labels = this.describe(netns)?.labels;
    return labels !== undefined && Object.keys(labels).length > 0 ? labels : undefined;
  }

  /** The pod of a namespace inode (a removed one while its tombstone lasts), with labels and uid. */
  describe(netns: number): PodIdentity | undefined {
    const live = this.#byNetns.get(netns);
    if (live !== undefined) return live;
    const tomb = this.#tombstones.get(netns);
    return tomb !== undefined && this.#now() < tomb.expiresAt ? tomb.identity : undefined;
  }

  /** Ready pods as of the last resync, hostNetwork ones included. */
  pods(): PodIdentity[] {
    return [...this.#sandboxes.values()].map((k) => k.identity);
  }

  /** Ready pods that use the node's network namespace (named as the node, never guessed). */
  hostNetworkPods(): PodIdentity[] {
    return this.pods().filter((p) => p.hostNetwork);
  }

  /**
   * Resync now. One resync runs at a time; asked while one runs, the next
   * starts when it ends (and serves every caller that asked meanwhile), so
   * that a pod started during a resync is not missed. Rejects with a
   * CriCallError when the runtime does not answer; what was known is kept.
   */
  sync(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    if (this.#syncing !== undefined) {
      this.#queued ??= this.#syncing
        .catch(() => undefined)
        .then(() => {
          this.#queued = undefined;
          return this.sync();
        });
      return this.#queued;
    }
    const run = this.#resync().finally(() => {
      if (this.#syncing === run) this.#syncing = undefined;
    });
    this.#syncing = run;
    return run;
  }

  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#client.close();
  }

  #background(): void {
    this.sync().catch(() => undefined); // logged by #resync
  }

  #onContainerMiss(id: string): boolean {
    const now = this.#now();
    const miss = this.#containerMisses.get(id);
    if (miss !== undefined && now < miss.retryAt) return false;
    const delayMs = miss === undefined ? this.#missRetryMs : Math.min(miss.delayMs * 2, this.#maxMissRetryMs);
    this.#containerMisses.set(id, { retryAt: now + delayMs, delayMs });
    this.#background();
    return true;
  }

  /** True when it started (or queued) a resync for the inode. */
  #onMiss(netns: number): boolean {
    const now = this.#now();
    const miss = this.#misses.get(netns);
    if (miss !== undefined && now < miss.retryAt) return false;
    // Each unknown inode resyncs at once the first time, then less and less
    // often: a namespace that is never a pod's (a process's own `unshare`)
    // must not make every one of its events ask the runtime.
    const delayMs = miss === undefined ? this.#missRetryMs : Math.min(miss.delayMs * 2, this.#maxMissRetryMs);
    this.#misses.set(netns, { retryAt: now + delayMs, delayMs });
    this.#background();
    return true;
  }

  async #resync(): Promise<void> {
    try {
      // Containers alongside the sandboxes: one call, whatever the number of pods.
      const containers = this.#sidecarNames.size > 0 ? this.#listContainers() : undefined;
      const list = await this.#client.listPodSandbox({ state: { state: runtime.v1.PodSandboxState.SANDBOX_READY } });
      const next = new Map<string, Known>();
      const asks: Promise<void>[] = [];
      for (const item of list.items) {
        // Filtered by state already; checked again for runtimes that ignore the filter.
        const id = item.id;
        if (!id || item.state !== runtime.v1.PodSandboxState.SANDBOX_READY) continue;
        const known = this.#sandboxes.get(id);
        if (known !== undefined) next.set(id, known);
        else asks.push(this.#ask(id).then((k) => void (k && next.set(id, k))));
      }
      await Promise.all(asks);
      this.#install(next);
      const listed = await containers;
      if (listed !== undefined) this.#installContainers(listed);
      this.#syncs++;
      if (this.#lastError !== "") this.#log.info({ socket: this.socket, pods: next.size }, "CRI pod resolver: the runtime answers again");
      this.#lastError = "";
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      // Said once per kind of failure, not at every resync of an outage.
      if (message !== this.#lastError) this.#log.warn({ err, socket: this.socket }, "CRI pod resolver: resync failed, keeping the pods known so far");
      this.#lastError = message;
      throw err;
    }
  }

  /** One new sandbox's identity and namespace; undefined to ask again at the next resync (its namespace is not there yet). */
  async #ask(id: string): Promise<Known | undefined> {
    let status: runtime.v1.PodSandboxStatusResponse;
    try {
      status = await this.#client.podSandboxStatus(id, true);
    } catch (err) {
      // Removed between the list and this call, or one slow answer: the next resync asks again.
      this.#log.debug({ err, sandbox: id }, "CRI pod resolver: no status for a sandbox");
      return undefined;
    }
    const s = status.status;
    if (!s || s.state !== runtime.v1.PodSandboxState.SANDBOX_READY) return undefined;
    const where = sandboxNetns(status);
    const identity: PodIdentity = {
      sandboxId: id,
      namespace: s.metadata?.namespace ?? "",
      name: s.metadata?.name ?? id.slice(0, 12),
      uid: s.metadata?.uid ?? "",
      // Frozen and shared by every event of the pod: encoders tell a repeat by identity.
      labels: Object.freeze({ ...(s.labels ?? {}) }),
      hostNetwork: where.kind === "host",
    };
    if (where.kind === "host") return { identity, netns: undefined };
    const netns = sandboxNetnsInode(where, this.#procDir);
    if (netns === undefined) {
      this.#log.debug({ sandbox: id, pod: podName(identity), path: where.path, pid: where.pid }, "CRI pod resolver: the sandbox's network namespace is not reachable (yet)");
      return undefined;
    }
    return { identity, netns };
  }

  /** Every container's id and name; undefined when the runtime did not answer (the last list is kept: pods still resync). */
  async #listContainers(): Promise<runtime.v1.Container.$Properties[] | undefined> {
    try {
      return (await this.#client.listContainers()).containers;
    } catch (err) {
      this.#log.debug({ err }, "CRI pod resolver: ListContainers failed, keeping the containers known so far");
      return undefined;
    }
  }

  #installContainers(listed: runtime.v1.Container.$Properties[]): void {
    const containers = new Map<string, string>();
    const sidecars = new Set<string>();
    for (const c of listed) {
      const id = c.id;
      const name = c.metadata?.name ?? "";
      if (!id) continue;
      containers.set(id, name);
      if (this.#sidecarNames.has(name)) sidecars.add(id);
    }
    const now = this.#now();
    for (const [id, miss] of this.#containerMisses) {
      if (containers.has(id) || now - miss.retryAt > 10 * this.#maxMissRetryMs) this.#containerMisses.delete(id);
    }
    this.#containers = containers;
    this.#sidecarIds = sidecars;
  }

  #install(next: Map<string, Known>): void {
    const now = this.#now();
    const names = new Map<number, string>();
    const byNetns = new Map<number, PodIdentity>();
    for (const k of next.values()) {
      if (k.netns === undefined) continue;
      names.set(k.netns, podName(k.identity));
      byNetns.set(k.netns, k.identity);
    }
    // A removed pod's sockets still close (FIN, RST, TIME_WAIT): keep its name a while.
    for (const [ino, identity] of this.#byNetns) {
      if (!byNetns.has(ino)) this.#tombstones.set(ino, { identity, expiresAt: now + this.#tombstoneMs });
    }
    for (const [ino, tomb] of this.#tombstones) {
      // The kernel reuses a destroyed namespace's inode number: a live pod wins.
      if (byNetns.has(ino) || now >= tomb.expiresAt) this.#tombstones.delete(ino);
    }
    for (const [ino, miss] of this.#misses) {
      if (names.has(ino) || now - miss.retryAt > 10 * this.#maxMissRetryMs) this.#misses.delete(ino);
    }
    const hostNetwork = [...next.values()].filter((k) => k.identity.hostNetwork && !this.#sandboxes.has(k.identity.sandboxId));
    if (hostNetwork.length > 0) {
      this.#log.info(
        { pods: hostNetwork.map((k) => podName(k.identity)), namedAs: this.#hostName },
        "hostNetwork pods share the node's network namespace: their sockets are named as the node",
      );
    }
    this.#sandboxes = next;
    this.#names = names;
    this.#byNetns = byNetns;
  }
}
