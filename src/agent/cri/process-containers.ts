// Which container each process the probe names runs in, read from
// /proc/<pid>/cgroup once per process: the agent's hot path asks about the
// same few pids over and over (a proxy's every dial and accept), so a pid
// seen once is a Map lookup after that. Entries go when the probe reports the
// process's exit (a "P" line), a little later than that, since its events
// still wait in the reorder buffer to be attributed; and the oldest go when
// the cache is full, to be read again if asked about.
import { readContainerId } from "./cgroup-container.js";

/** Processes remembered at most (a node's busy pids; beyond it the oldest are read again when seen). */
export const DEFAULT_PROCESS_CACHE_SIZE = 16_384;
/**
 * How long an exited process's answer is kept: its events wait in the reorder
 * window (100 ms) and a new pod's hold (250 ms) before they are attributed.
 */
export const DEFAULT_EXITED_PROCESS_KEEP_MS = 2000;

export interface ProcessContainersOptions {
  /** Default DEFAULT_PROCESS_CACHE_SIZE (16384). */
  maxProcesses?: number;
  /** Default DEFAULT_EXITED_PROCESS_KEEP_MS (2 s). */
  exitedKeepMs?: number;
  /** Where /proc is. Default "/proc". */
  procDir?: string;
  /** Clock in ms. Default Date.now; tests pass their own. */
  now?: () => number;
  /** Reads a pid's container id ("" none, undefined unreadable). Default: its /proc/<pid>/cgroup. */
  read?: (pid: number) => string | undefined;
}

interface Entry {
  /** "" when the process is in no container. */
  containerId: string;
  /** When the probe saw it exit (ms), 0 while alive. */
  exitedAt: number;
}

export class ProcessContainers {
  readonly #byPid = new Map<number, Entry>();
  /** Exited pids in exit order, dropped once exitedKeepMs has passed. */
  readonly #exits: { pid: number; entry: Entry }[] = [];
  readonly #max: number;
  readonly #keepMs: number;
  readonly #now: () => number;
  readonly #read: (pid: number) => string | undefined;
  #reads = 0;

  constructor(o: ProcessContainersOptions = {}) {
    this.#max = o.maxProcesses ?? DEFAULT_PROCESS_CACHE_SIZE;
    this.#keepMs = o.exitedKeepMs ?? DEFAULT_EXITED_PROCESS_KEEP_MS;
    this.#now = o.now ?? Date.now;
    const procDir = o.procDir ?? "/proc";
    this.#read = o.read ?? ((pid) => readContainerId(pid, procDir));
  }

  get size(): number {
    return this.#byPid.size;
  }

  /** How many /proc reads were made (what the cache saves). */
  get reads(): number {
    return this.#reads;
  }

  /**
   * The container of a process named in process context (it is alive, or was
   * a moment ago): "" in none, undefined when it exited before it could be
   * read. Read once; a pid reported exited and seen again is a new process.
   */
  note(pid: number): string | undefined {
    const known = this.#byPid.get(pid);
    if (known !== undefined && known.exitedAt === 0) return known.containerId;
    this.#forgetExited();
    this.#reads++;
    const id = this.#read(pid);
    // Gone already: the answer kept from before its exit (if any) is the best there is.
    if (id === undefined) return known?.containerId;
    if (known !== undefined) this.#byPid.delete(pid);
    this.#byPid.set(pid, { containerId: id, exitedAt: 0 });
    if (this.#byPid.size > this.#max) {
      // Map order is insertion order: the first key is the oldest.
      const oldest = this.#byPid.keys().next().value;
      if (oldest !== undefined) this.#byPid.delete(oldest);
    }
    return id;
  }

  /** What note() learned of pid, without reading anything (the release path). */
  containerOf(pid: number): string | undefined {
    return this.#byPid.get(pid)?.containerId;
  }

  /** The probe saw pid exit: its answer stays for exitedKeepMs (its buffered events), then goes. */
  exited(pid: number): void {
    const entry = this.#byPid.get(pid);
    if (entry === undefined || entry.exitedAt !== 0) return;
    entry.exitedAt = this.#now();
    this.#exits.push({ pid, entry });
    this.#forgetExited();
  }

  #forgetExited(): void {
    const before = this.#now() - this.#keepMs;
    let n = 0;
    while (n < this.#exits.length && this.#exits[n]!.entry.exitedAt <= before) {
      const { pid, entry } = this.#exits[n]!;
      // Only the entry that exited: the pid may be a new process's by now.
      if (this.#byPid.get(pid) === entry) this.#byPid.delete(pid);
      n++;
    }
    if (n > 0) this.#exits.splice(0, n);
  }
}
