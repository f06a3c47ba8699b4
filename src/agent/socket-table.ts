// What the agent knows about each live socket: its tuple, namespace, owner
// UID and mesh role. The probe prints a socket's tuple only on its first
// lines; this table lets every later event leave the node self-describing.
// It is fed in kernel-timestamp order, so a reused struct sock address is
// seen dying (→CLOSE) before it is born again.
import type { Endpoint, KernelNs, Process } from "../model/mod.js";
import type { MeshRole, MeshRoleClassifier } from "./role.js";
import type { PodResolver } from "./pod-resolver.js";

const TCP_CLOSE = 7;
const TCP_LISTEN = 10;
const TCP_SYN_RECV = 3;

export interface SocketInfo {
  birthTsNs: KernelNs;
  /** ts of →CLOSE, null while alive. */
  diedTsNs: KernelNs | null;
  family: number;
  local: Endpoint;
  remote: Endpoint;
  netns: number;
  pod: string;
  uid: number;
  state: number;
  mesh: MeshRole;
  /** The owning process, once attributed. */
  owner: Process | undefined;
  /** The owner runs in a sidecar's container (by name): the socket is the sidecar's whatever its UID. */
  sidecarProcess: boolean;
}

export interface StateLine {
  tsNs: KernelNs;
  sock: string;
  oldState?: number | null;
  newState?: number | null;
  family?: number | null;
  local?: Endpoint | null;
  remote?: Endpoint | null;
  netns?: number | null;
  uid?: number | null;
}

export class SocketTable {
  readonly #socks = new Map<string, SocketInfo>();
  readonly #roles: MeshRoleClassifier;
  readonly #pods: PodResolver;

  constructor(roles: MeshRoleClassifier, pods: PodResolver) {
    this.#roles = roles;
    this.#pods = pods;
  }

  get size(): number {
    return this.#socks.size;
  }

  get(sock: string): SocketInfo | undefined {
    return this.#socks.get(sock);
  }

  isAlive(sock: string): boolean {
    const s = this.#socks.get(sock);
    return s !== undefined && s.diedTsNs === null;
  }

  /** A state change; returns the socket's info after it. */
  onState(ev: StateLine, hasTuple: boolean): SocketInfo | undefined {
    const old = ev.oldState ?? 0;
    const now = ev.newState ?? 0;
    let s = this.#socks.get(ev.sock);
    const born = old === TCP_CLOSE || (old === TCP_LISTEN && now === TCP_SYN_RECV);
    if (hasTuple && (s === undefined || born || s.diedTsNs !== null)) {
      s = this.#create(ev, now);
      this.#socks.set(ev.sock, s);
    } else if (s !== undefined && hasTuple) {
      // Same socket, tuple now complete (SYN_SENT gets its local port after the first line).
      s.local = ev.local ?? s.local;
      s.remote = ev.remote ?? s.remote;
    }
    if (s === undefined) return undefined;
    s.state = now;
    if (hasTuple || s.mesh.role === 0) s.mesh = this.#roles.classify(s.uid, s.local, now, s.sidecarProcess);
    if (now === TCP_CLOSE) s.diedTsNs = ev.tsNs;
    return s;
  }

  #create(ev: StateLine, state: number): SocketInfo {
    const netns = ev.netns ?? 0;
    const uid = ev.uid ?? 0;
    const local = ev.local ?? { ip: "", port: 0 };
    return {
      birthTsNs: ev.tsNs,
      diedTsNs: null,
      family: ev.family ?? 0,
      local,
      remote: ev.remote ?? { ip: "", port: 0 },
      netns,
      pod: this.#pods.resolve(netns),
      uid,
      state,
      mesh: this.#roles.classify(uid, local, state),
      owner: undefined,
      sidecarProcess: false,
    };
  }

  /** The socket's owner turned out to run in a sidecar's container: classified again as the sidecar's. */
  markSidecarProcess(s: SocketInfo): void {
    s.sidecarProcess = true;
    s.mesh = this.#roles.classify(s.uid, s.local, s.state, true);
  }

  /**
   * The socket's pod, resolved again while it is still "": its namespace may be
   * named after the socket was first seen (a CNI bind-mounts it after the
   * sandbox started). Named sockets never ask again, so this costs nothing once
   * a name is found, and the resolver rate-limits the rescans of unnamed ones.
   */
  podOf(s: SocketInfo): string {
    if (s.pod === "" && s.netns !== 0) s.pod = this.#pods.resolve(s.netns);
    return s.pod;
  }

  /** Forget sockets that died before beforeTsNs (late syscall events had their chance). */
  prune(beforeTsNs: KernelNs): number {
    let n = 0;
    for (const [sock, s] of this.#socks) {
      if (s.diedTsNs !== null && s.diedTsNs < beforeTsNs) {
        this.#socks.delete(sock);
        n++;
      }
    }
    return n;
  }
}
