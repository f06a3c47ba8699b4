// Packet ground truth: tcpdump inside each pod's netns, SYN/FIN/RST only,
// started before a scenario and stopped cleanly (SIGINT) after it.
import { execa, type ResultPromise } from "execa";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { LabTimeoutError } from "./errors.js";
import { inNetns } from "./exec.js";
import { reduceCapture, type WirePacket } from "./ground-truth.js";
import { sleep } from "./processes.js";

/** The capture filter: only segments that open or close connections. */
export const CAPTURE_FILTER = "tcp[tcpflags] & (tcp-syn|tcp-fin|tcp-rst) != 0";

export interface CaptureOptions {
  /** Named netns to capture in (one tcpdump each). */
  netns: readonly string[];
  /** Directory for the `<netns>.txt` capture files. */
  dir: string;
  /** How long to wait for each tcpdump to attach. Default: 30000 ms (a deadline, not a delay: loaded machines are slow to start it). */
  startTimeoutMs?: number;
  /** pcap filter. Default: CAPTURE_FILTER. */
  filter?: string;
  /** Print each segment's payload too (tcpdump -A), e.g. to read HTTP request lines. Default: false. */
  payload?: boolean;
}

export interface CaptureResult {
  /** Raw tcpdump text per netns (what the fixtures hold). */
  text: Record<string, string>;
  files: Record<string, string>;
  /** The reduced ground truth. */
  packets: WirePacket[];
  /** tcpdump's own count of packets the kernel dropped before it read them, per netns: nonzero means the truth has holes. */
  dropped: Record<string, number>;
}

export class Capture {
  readonly #procs: Array<{ netns: string; file: string; proc: ResultPromise }> = [];
  #stopped = false;

  private constructor() {}

  /** Resolves once every tcpdump reports it is listening. */
  static async start(opts: CaptureOptions): Promise<Capture> {
    const c = new Capture();
    try {
      for (const netns of opts.netns) {
        const file = join(opts.dir, `${netns}.txt`);
        // -S absolute sequence numbers (segment identity), -tt epoch timestamps,
        // --immediate-mode so nothing waits in a ring block when we stop.
        const args = ["-i", "any", "-nn", "-tt", "-S", "-l", "--immediate-mode", "-B", "16384", ...(opts.payload ? ["-A"] : []), opts.filter ?? CAPTURE_FILTER];
        const [bin, argv] = inNetns(netns, "tcpdump", args);
        const proc = execa(bin, argv, { stdout: { file }, reject: false, stdin: "ignore" });
        c.#procs.push({ netns, file, proc });
        await listening(proc, opts.startTimeoutMs ?? 30_000, netns);
      }
      return c;
    } catch (e) {
      await c.stop().catch(() => undefined);
      throw e;
    }
  }

  /** The capture text so far, per netns: tcpdump writes each segment as it sees it (-l, --immediate-mode), so a caller can poll for a condition. */
  async snapshot(): Promise<Record<string, string>> {
    const text: Record<string, string> = {};
    for (const { netns, file } of this.#procs) text[netns] = await readFile(file, "utf8").catch(() => "");
    return text;
  }

  /** SIGINT every tcpdump, wait for it to flush and exit, then read and reduce. Idempotent. */
  async stop(): Promise<CaptureResult> {
    if (!this.#stopped) {
      this.#stopped = true;
      // Segments still in flight on the veths reach the capture buffers.
      await sleep(100);
      for (const { proc } of this.#procs) proc.kill("SIGINT");
      await Promise.all(this.#procs.map(({ proc }) => proc));
    }
    const text: Record<string, string> = {};
    const files: Record<string, string> = {};
    const dropped: Record<string, number> = {};
    for (const { netns, file, proc } of this.#procs) {
      files[netns] = file;
      const stderr = String((await proc).stderr ?? "");
      dropped[netns] = Number(/(\d+) packets? dropped by kernel/.exec(stderr)?.[1] ?? 0);
      text[netns] = await readFile(file, "utf8").catch(() => "");
    }
    return { text, files, packets: reduceCapture(text), dropped };
  }
}

function listening(proc: ResultPromise, timeoutMs: number, netns: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let err = "";
    const timer = setTimeout(() => reject(new LabTimeoutError(`tcpdump in ${netns} did not start: ${err}`)), timeoutMs);
    proc.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("listening on")) {
        clearTimeout(timer);
        resolve();
      }
    });
    void proc.then((r) => {
      clearTimeout(timer);
      reject(new LabTimeoutError(`tcpdump in ${netns} exited (${String(r.exitCode)}): ${err.trim()}`));
    });
  });
}
