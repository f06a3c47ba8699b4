// The baseline users already know for "who sent this RST": tcpdump on
// loopback, SYN/FIN/RST only, written to a file, while the same churn runs.
import { execa, type ResultPromise } from "execa";
import { CAPTURE_FILTER } from "../src/lab/capture.js";
import { findExecutable } from "../src/probes/mod.js";

/** Capture buffer in KiB (-B): large enough that a full-speed churn's bursts are not dropped for want of space. */
export const DEFAULT_TCPDUMP_BUFFER_KIB = 65_536;
export const DEFAULT_TCPDUMP_START_TIMEOUT_MS = 10_000;

export interface TcpdumpCounts {
  /** tcpdump's own summary lines at exit. */
  captured: number;
  receivedByFilter: number;
  droppedByKernel: number;
}

/** Read tcpdump's exit summary ("N packets captured", "... received by filter", "... dropped by kernel"). */
export function parseTcpdumpSummary(stderr: string): TcpdumpCounts {
  const count = (what: string) => Number(new RegExp(`(\\d+) packets? ${what}`).exec(stderr)?.[1] ?? NaN);
  return { captured: count("captured"), receivedByFilter: count("received by filter"), droppedByKernel: count("dropped by kernel") };
}

export interface TcpdumpCapture {
  pid: number;
  /** SIGINT, wait for the exit and read its summary. Idempotent. */
  stop(): Promise<TcpdumpCounts>;
}

/** Start `tcpdump -i <iface> -w <file>` with the SYN/FIN/RST filter; resolves once it is listening. */
export async function startTcpdump(file: string, o: { iface?: string; bufferKib?: number; startTimeoutMs?: number } = {}): Promise<TcpdumpCapture> {
  const bin = findExecutable("tcpdump");
  if (!bin) throw new Error("tcpdump is not installed");
  const child: ResultPromise<{ stdin: "ignore"; stdout: "ignore"; reject: false; buffer: false; forceKillAfterDelay: false }> = execa(
    bin,
    ["-i", o.iface ?? "lo", "-w", file, "-B", String(o.bufferKib ?? DEFAULT_TCPDUMP_BUFFER_KIB), CAPTURE_FILTER],
    { stdin: "ignore", stdout: "ignore", reject: false, buffer: false, forceKillAfterDelay: false },
  );
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
  const exited = child.then((r) => r);
  let stopping: Promise<TcpdumpCounts> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      child.kill("SIGINT");
      await exited;
      return parseTcpdumpSummary(stderr);
    })());
  const timeoutMs = o.startTimeoutMs ?? DEFAULT_TCPDUMP_START_TIMEOUT_MS;
  const ready = await Promise.race([
    new Promise<boolean>((resolve) => {
      const check = () => {
        if (!stderr.includes("listening on")) return;
        child.stderr.off("data", check);
        resolve(true);
      };
      child.stderr.on("data", check);
    }),
    exited.then(() => false),
    new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref()),
  ]);
  if (!ready) {
    await stop();
    throw new Error(`tcpdump did not start listening: ${stderr.trim()}`);
  }
  if (child.pid === undefined) throw new Error("tcpdump has no pid");
  return { pid: child.pid, stop };
}
