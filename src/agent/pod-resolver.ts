// Names a network namespace. Today: named namespaces under /run/netns (what
// `ip netns add` and the lab create) and the host namespace (the node name).
// A Kubernetes resolver (netns → pod via the CRI) can implement the same
// interface later.
import { readdirSync, statSync, watch, type FSWatcher } from "node:fs";
import { join } from "node:path";
import type { PodLabels } from "../model/mod.js";

export interface PodResolver {
  /** The pod (or namespace) name of a netns inode, "" when unknown. */
  resolve(netns: number): string;
  /**
   * The labels of the pod a netns inode is (one object per pod, the same on
   * every call, so that encoders can tell a repeat by identity), undefined
   * when it has none or the resolver knows no labels (named namespaces).
   */
  labels?(netns: number): PodLabels | undefined;
  /**
   * An event with this inode just arrived: start finding its name now if it
   * is unknown (a resolver whose lookups are asynchronous). True when that
   * started a lookup the pipeline should hold the event's release for.
   */
  prefetch?(netns: number): boolean;
  /** Whether a lookup started by prefetch (or a miss) is still running. */
  pending?(): boolean;
  /**
   * A process-context event named pid (it is alive): learn which container
   * it runs in now, once per process (a resolver that knows containers). True
   * when that started a lookup the pipeline should hold the release for (a
   * container the runtime has not listed yet).
   */
  noteProcess?(pid: number): boolean;
  /** Whether pid (noted before) runs in a container named as a mesh sidecar (istio-proxy), whatever its UID. */
  isSidecarProcess?(pid: number): boolean;
  /** The probe saw pid exit: what was learned of it may go (once its buffered events are out). */
  processExited?(pid: number): void;
  /** Let go of watchers; resolve() keeps working, only less promptly. */
  close?(): void;
}

/** Where `ip netns add` (and CNI plugins) bind-mount named namespaces. */
export const DEFAULT_NETNS_DIR = "/run/netns";
/** First wait before an inode a rescan did not find may trigger another one. */
export const DEFAULT_MISS_RETRY_MS = 50;
/** The wait doubles per miss up to this, so inodes never named cost little. */
export const DEFAULT_MAX_MISS_RETRY_MS = 5000;
/** How long a deleted namespace keeps its name: FINs and RSTs cluster at teardown. */
export const DEFAULT_TOMBSTONE_MS = 5 * 60_000;
/**
 * Longest the agent holds events back (beyond its reorder window) while the
 * resolver asks about a namespace it has not seen: a CRI resync takes a few
 * ms, and a runtime that does not answer must not stall the events for long.
 */
export const DEFAULT_NEW_POD_HOLD_MS = 250;
/** Full rescan period while the directory cannot be watched. */
export const DEFAULT_UNWATCHED_RESCAN_MS = 1000;

export interface NetnsDirResolverOptions {
  /** Directory of named namespaces. Default DEFAULT_NETNS_DIR (/run/netns). */
  dir?: string;
  /** Name for the host (init) network namespace. Default: the node name. */
  hostName: string;
  /** An inode a rescan did not find rescans again only after this long, doubling per miss. Default DEFAULT_MISS_RETRY_MS (50 ms). */
  missRetryMs?: number;
  /** Cap of that doubling wait. Default DEFAULT_MAX_MISS_RETRY_MS (5 s). */
  maxMissRetryMs?: number;
  /** How long a namespace removed from the directory keeps its name. Default DEFAULT_TOMBSTONE_MS (5 min). */
  tombstoneMs?: number;
  /** While the directory is not watched (absent, or watch: false), rescan it this often. Default DEFAULT_UNWATCHED_RESCAN_MS (1 s). */
  rescanMs?: number;
  /** Watch the directory (inotify) so that changes are noticed without polling. Default true. */
  watch?: boolean;
  /** Clock in ms. Default Date.now; tests pass their own. */
  now?: () => number;
}

interface Miss {
  retryAt: number;
  delayMs: number;
}

interface Tombstone {
  name: string;
  expiresAt: number;
}

export class NetnsDirResolver implements PodResolver {
  readonly #dir: string;
  readonly #missRetryMs: number;
  readonly #maxMissRetryMs: number;
  readonly #tombstoneMs: number;
  readonly #rescanMs: number;
  readonly #now: () => number;
  #watchWanted: boolean;
  /** Names in the directory as of the last scan (plus the host). */
  #names = new Map<number, string>();
  readonly #tombstones = new Map<number, Tombstone>();
  /** Inodes looked up and not found, with when they may trigger a rescan again. */
  readonly #misses = new Map<number, Miss>();
  #host: [number, string] | undefined;
  /** Device of nsfs: a named entry is a namespace only once it is bind-mounted (its st_dev is nsfs). */
  #nsfsDev: number | undefined;
  #watcher: FSWatcher | undefined;
  /** Inode of the directory being watched: a directory removed and made again needs a new watch. */
  #watchedDirIno = -1;
  /** Set by the watcher: the directory changed since the last scan. */
  #changed = false;
  #nextUnwatchedScanAt = 0;
  #scans = 0;

  constructor(o: NetnsDirResolverOptions) {
    this.#dir = o.dir ?? DEFAULT_NETNS_DIR;
    this.#missRetryMs = o.missRetryMs ?? DEFAULT_MISS_RETRY_MS;
    this.#maxMissRetryMs = Math.max(this.#missRetryMs, o.maxMissRetryMs ?? DEFAULT_MAX_MISS_RETRY_MS);
    this.#tombstoneMs = o.tombstoneMs ?? DEFAULT_TOMBSTONE_MS;
    this.#rescanMs = o.rescanMs ?? DEFAULT_UNWATCHED_RESCAN_MS;
    this.#now = o.now ?? Date.now;
    this.#watchWanted = o.watch ?? true;
    // The agent runs in the host namespace; /proc/1 may be hidden in a sandbox.
    for (const p of ["/proc/self/ns/net", "/proc/1/ns/net"]) {
      try {
        const st = statSync(p);
        this.#host = [st.ino, o.hostName];
        this.#nsfsDev = st.dev;
        break;
      } catch {
        // try the next one; without procfs the host namespace stays unnamed
      }
    }
    this.#scan();
  }

  /** How many times the directory has been read (the cost this class keeps low). */
  get scans(): number {
    return this.#scans;
  }

  /** Whether changes to the directory are being watched (otherwise it is rescanned every rescanMs). */
  get watching(): boolean {
    return this.#watcher !== undefined;
  }

  resolve(netns: number): string {
    // The agent's hot path: a known inode is one Map lookup while the directory
    // is watched and unchanged. A known inode can be stale (its namespace was
    // deleted and the kernel gave the number to a new one), so any change, or
    // the timer when there is no watch, refreshes the whole map first.
    if (this.#changed || (this.#watcher === undefined && this.#now() >= this.#nextUnwatchedScanAt)) this.#scan();
    return this.#names.get(netns) ?? this.#resolveMiss(netns);
  }

  close(): void {
    this.#watchWanted = false;
    this.#unwatch();
  }

  #resolveMiss(netns: number): string {
    const now = this.#now();
    const miss = this.#misses.get(netns);
    // A new pod's first events name an inode nobody has asked about yet: rescan
    // at once. One still missing afterwards waits before it may rescan again, per
    // inode, so busy sockets of a namespace that is never named (or is deleted and
    // tombstoned) cannot make every event read the directory, while a different
    // new inode is never held up by them.
    if (miss === undefined || now >= miss.retryAt) {
      this.#scan();
      const name = this.#names.get(netns);
      if (name !== undefined) {
        this.#misses.delete(netns);
        return name;
      }
      const delayMs = miss === undefined ? this.#missRetryMs : Math.min(miss.delayMs * 2, this.#maxMissRetryMs);
      this.#misses.set(netns, { retryAt: now + delayMs, delayMs });
    }
    const tomb = this.#tombstones.get(netns);
    return tomb !== undefined && now < tomb.expiresAt ? tomb.name : "";
  }

  #scan(): void {
    const now = this.#now();
    this.#scans++;
    if (this.#changed) {
      this.#changed = false;
      // `ip netns add` creates the entry (which the watcher reports) a moment
      // before it bind-mounts the namespace onto it, with no event for the
      // mount: inodes still missing after this scan get a short wait again.
      for (const miss of this.#misses.values()) {
        miss.delayMs = this.#missRetryMs;
        miss.retryAt = Math.min(miss.retryAt, now + this.#missRetryMs);
      }
    }
    this.#nextUnwatchedScanAt = now + this.#rescanMs;
    this.#ensureWatch();
    const names = new Map<number, string>(this.#host ? [this.#host] : []);
    let entries: string[] = [];
    try {
      entries = readdirSync(this.#dir);
    } catch {
      // not created yet (the first `ip netns add` makes it): nothing is named
    }
    for (const name of entries) {
      try {
        // A named netns is a bind mount of the nsfs inode: its st_ino is the netns inode.
        const st = statSync(join(this.#dir, name));
        // Not mounted yet (or a leftover file): its inode is not a namespace's.
        if (this.#nsfsDev !== undefined && st.dev !== this.#nsfsDev) continue;
        names.set(st.ino, name);
      } catch {
        // removed while scanning
      }
    }
    // A deleted namespace still has sockets closing (FIN, RST, TIME_WAIT): keep its name a while.
    for (const [ino, name] of this.#names) {
      if (!names.has(ino)) this.#tombstones.set(ino, { name, expiresAt: now + this.#tombstoneMs });
    }
    for (const [ino, tomb] of this.#tombstones) {
      // The kernel reuses the inode numbers of destroyed namespaces: a live name wins.
      if (names.has(ino) || now >= tomb.expiresAt) this.#tombstones.delete(ino);
    }
    // Forget inodes nobody asked about for a long while (each asks again at most once per max wait).
    for (const [ino, miss] of this.#misses) {
      if (names.has(ino) || now - miss.retryAt > 10 * this.#maxMissRetryMs) this.#misses.delete(ino);
    }
    this.#names = names;
  }

  #ensureWatch(): void {
    if (!this.#watchWanted) return;
    let dirIno: number;
    try {
      dirIno = statSync(this.#dir).ino;
    } catch {
      this.#unwatch(); // gone: rescans on a timer until it exists again
      return;
    }
    if (this.#watcher !== undefined && dirIno === this.#watchedDirIno) return;
    this.#unwatch();
    try {
      // Not persistent: the watch must never keep the process alive.
      const w = watch(this.#dir, { persistent: false }, () => {
        this.#changed = true;
      });
      w.on("error", () => {
        if (this.#watcher !== w) return;
        this.#unwatch();
        this.#nextUnwatchedScanAt = 0; // changes may have gone unreported: rescan on the next lookup
      });
      this.#watcher = w;
      this.#watchedDirIno = dirIno;
      // Whatever changed before the watch started is picked up by the scan under way.
    } catch {
      // e.g. out of inotify watches: rescans on a timer instead
    }
  }

  #unwatch(): void {
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#watchedDirIno = -1;
  }
}
