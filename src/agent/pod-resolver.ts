// Names a network namespace. Today: named namespaces under /run/netns (what
// `ip netns add` and the lab create) and the host namespace (the node name).
// A Kubernetes resolver (netns → pod via the CRI) can implement the same
// interface later.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export interface PodResolver {
  /** The pod (or namespace) name of a netns inode, "" when unknown. */
  resolve(netns: number): string;
}

export interface NetnsDirResolverOptions {
  /** Directory of named namespaces. Default /run/netns. */
  dir?: string;
  /** Name for the host (init) network namespace. Default: the node name. */
  hostName: string;
  /** Rescan the directory at most this often on unknown inodes. Default 1000 ms. */
  rescanMs?: number;
}

export class NetnsDirResolver implements PodResolver {
  readonly #dir: string;
  readonly #rescanMs: number;
  #names = new Map<number, string>();
  #host: [number, string] | undefined;
  #lastScan = 0;

  constructor(o: NetnsDirResolverOptions) {
    this.#dir = o.dir ?? "/run/netns";
    this.#rescanMs = o.rescanMs ?? 1000;
    // The agent runs in the host namespace; /proc/1 may be hidden in a sandbox.
    for (const p of ["/proc/self/ns/net", "/proc/1/ns/net"]) {
      try {
        this.#host = [statSync(p).ino, o.hostName];
        break;
      } catch {
        // try the next one; without procfs the host namespace stays unnamed
      }
    }
    this.#scan();
  }

  resolve(netns: number): string {
    // Inodes of deleted namespaces are reused: refresh the whole map now and then.
    if (Date.now() - this.#lastScan >= this.#rescanMs) this.#scan();
    return this.#names.get(netns) ?? "";
  }

  #scan(): void {
    this.#lastScan = Date.now();
    const names = new Map<number, string>(this.#host ? [this.#host] : []);
    this.#names = names;
    let entries: string[];
    try {
      entries = readdirSync(this.#dir);
    } catch {
      return;
    }
    for (const name of entries) {
      try {
        // A named netns is a bind mount of the nsfs inode: its st_ino is the netns inode.
        names.set(statSync(join(this.#dir, name)).ino, name);
      } catch {
        // removed while scanning
      }
    }
  }
}
