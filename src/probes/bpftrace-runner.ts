// Runs tcptrail.bt under bpftrace as a supervised child: no shell, no
// --unsafe, nothing user-supplied in the program text. Streams stdout lines,
// logs stderr, restarts with backoff when bpftrace dies and stops it cleanly,
// so no bpftrace process (and no attached probe) outlives the agent.
import { execa, type ResultPromise } from "execa";
import type { Logger } from "../log/logger.js";
import { silentLogger } from "../log/logger.js";
import { bpftraceLimitsEnv, defaultPerfRbPages, type BpftraceVersion } from "./bpftrace-binary.js";
import { LineSplitter } from "./line-splitter.js";

export interface BpftraceRunnerOptions {
  /** bpftrace binary. */
  bpftrace: string;
  /** Path of the .bt program. */
  program: string;
  /** Positional parameters ($1, $2, ...) for the program. Default none. */
  programArgs?: readonly string[];
  /** Its `--version` (preflight found it): picks the limits' variable names and the buffer size. Default: unknown, treated as old. */
  version?: BpftraceVersion;
  /**
   * Output buffer pages (BPFTRACE_PERF_RB_PAGES): per CPU before 0.21, one
   * shared ring buffer after. Default: defaultPerfRbPages(version), 2048 or 16384.
   */
  perfRbPages?: number;
  /** Max entries per bpftrace map (BPFTRACE_MAP_KEYS_MAX). Default 262144 live sockets. */
  mapKeysMax?: number;
  /** First restart delay; doubles per consecutive failure. Default 500 ms. */
  restartMinMs?: number;
  /** Restart delay ceiling. Default 30 s. */
  restartMaxMs?: number;
  /** A run this long resets the backoff. Default 60 s. */
  stableAfterMs?: number;
  /** Grace period between SIGINT and SIGKILL on stop. Default 5 s. */
  stopTimeoutMs?: number;
  logger?: Logger;
  /** Every stdout line (without newline). Hot path. Not called when onChunk is given. */
  onLine?(line: string): void;
  /**
   * Raw stdout instead of lines, each chunk as the pipe gave it (the receiver
   * may move it to another thread). Return false to stop reading until
   * resumeOutput(): bpftrace then blocks or counts lost events, as when the
   * agent falls behind in-thread, instead of output piling up in memory.
   */
  onChunk?(chunk: Buffer): boolean;
  /** A bpftrace's stdout ended (before onCrash when it crashed): with onChunk, a last line without newline is complete. */
  onOutputEnd?(): void;
  /** bpftrace exited without being asked to; it will be restarted after delayMs. */
  onCrash?(info: CrashInfo): void;
}

export interface CrashInfo {
  exitCode: number | undefined;
  signal: string | undefined;
  /** Last stderr lines, for the log and the gap marker. */
  stderr: string;
  restarts: number;
  delayMs: number;
}

// bpftrace always warns about RLIMIT_MEMLOCK on kernels that account BPF memory by cgroup: harmless.
const HARMLESS_STDERR = /RLIMIT_MEMLOCK|ulimit -l/;

export class BpftraceRunner {
  readonly #o: Required<Omit<BpftraceRunnerOptions, "onCrash" | "logger" | "version" | "onLine" | "onChunk" | "onOutputEnd">> &
    Pick<BpftraceRunnerOptions, "onCrash" | "version" | "onLine" | "onChunk" | "onOutputEnd">;
  readonly #log: Logger;
  #child: ResultPromise | undefined;
  #stopping = false;
  #restarts = 0;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;
  #stderrTail: string[] = [];
  #exited: Promise<void> = Promise.resolve();

  constructor(opts: BpftraceRunnerOptions) {
    this.#o = {
      mapKeysMax: 262_144,
      restartMinMs: 500,
      restartMaxMs: 30_000,
      stableAfterMs: 60_000,
      stopTimeoutMs: 5_000,
      programArgs: [],
      ...opts,
      perfRbPages: opts.perfRbPages ?? defaultPerfRbPages(opts.version),
    };
    this.#log = opts.logger ?? silentLogger;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get restarts(): number {
    return this.#restarts;
  }

  /** Start bpftrace; resolves once the child is spawned (not yet attached). */
  start(): void {
    this.#stopping = false;
    this.#spawn();
  }

  #spawn(): void {
    const o = this.#o;
    const startedAt = Date.now();
    const child = execa(o.bpftrace, [o.program, ...(o.programArgs ?? [])], {
      stdin: "ignore",
      buffer: false,
      reject: false,
      // Its own process group: a terminal's Ctrl-C reaches the agent, which
      // stops bpftrace in order (and does not mistake it for a crash). If the
      // agent exits without stop(), the exit hook below ends it.
      detached: true,
      // Probes print numbers, not strings; keep bpftrace's per-event string space small.
      env: bpftraceLimitsEnv(o.version, { perfRbPages: o.perfRbPages, mapKeysMax: o.mapKeysMax, strlen: 64 }),
    });
    this.#child = child;
    const killOnExit = () => child.kill("SIGKILL");
    process.once("exit", killOnExit);
    void child.finally(() => process.off("exit", killOnExit));
    this.#stderrTail = [];
    this.#log.info({ bpftracePid: child.pid, program: o.program, perfRbPages: o.perfRbPages, version: o.version?.text }, "bpftrace started");

    let endOutput: () => void;
    const onChunk = o.onChunk;
    if (onChunk) {
      child.stdout?.on("data", (chunk: Buffer) => {
        if (onChunk(chunk) === false) child.stdout?.pause();
      });
      endOutput = () => o.onOutputEnd?.();
    } else {
      const onLine = o.onLine;
      const splitter = new LineSplitter((text, start, end) => onLine?.(text.slice(start, end)));
      child.stdout?.on("data", (chunk: Buffer) => splitter.push(chunk));
      endOutput = () => {
        splitter.end();
        o.onOutputEnd?.();
      };
    }

    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) {
        if (!line.trim() || HARMLESS_STDERR.test(line)) continue;
        this.#stderrTail.push(line);
        if (this.#stderrTail.length > 20) this.#stderrTail.shift();
        this.#log.warn({ bpftrace: line }, "bpftrace stderr");
      }
    });

    this.#exited = child.then((r) => {
      endOutput();
      if (this.#child === child) this.#child = undefined;
      if (this.#stopping) {
        this.#log.info({ exitCode: r.exitCode, signal: r.signal }, "bpftrace stopped");
        return;
      }
      const ranMs = Date.now() - startedAt;
      this.#failures = ranMs >= o.stableAfterMs ? 1 : this.#failures + 1;
      const delayMs = Math.min(o.restartMaxMs, o.restartMinMs * 2 ** (this.#failures - 1));
      this.#restarts++;
      const info: CrashInfo = {
        exitCode: r.exitCode,
        signal: r.signal,
        stderr: this.#stderrTail.join("\n"),
        restarts: this.#restarts,
        delayMs,
      };
      this.#log.error(info, "bpftrace exited unexpectedly; restarting");
      o.onCrash?.(info);
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        if (!this.#stopping) this.#spawn();
      }, delayMs);
    });
  }

  /** Read bpftrace's output again after onChunk returned false. */
  resumeOutput(): void {
    this.#child?.stdout?.resume();
  }

  /** Stop bpftrace (SIGINT lets it detach its probes), then SIGKILL after the grace period. */
  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const child = this.#child;
    if (child) {
      // Output paused for a slow receiver must flow again, or the exit (which waits for stdout to end) never comes.
      child.stdout?.resume();
      child.kill("SIGINT");
      const killer = setTimeout(() => child.kill("SIGKILL"), this.#o.stopTimeoutMs);
      await this.#exited;
      clearTimeout(killer);
    }
  }
}
