// The built CLI as users start it (`bin/tcptrail agent ...`, `bin/tcptrail
// run ...`), as a child process the bench can wait on, scrape and stop with
// SIGINT, so the numbers include everything the real command does.
import { existsSync, readFileSync } from "node:fs";
import { execa, type ResultPromise } from "execa";
import { scrapeMetrics, type MetricSamples } from "./prometheus-text.js";

/**
 * The installed entry point; it runs dist/src/cli (npm run bench builds it
 * first). One level up from bench/ when run from source, two from dist/bench.
 */
export const TCPTRAIL_BIN =
  [new URL("../bin/tcptrail", import.meta.url), new URL("../../bin/tcptrail", import.meta.url)].map((u) => u.pathname).find((p) => existsSync(p)) ??
  "tcptrail";
/** bpftrace takes 2-10 s to attach, more on a loaded machine; `run` starts nats-server and the store first. */
export const DEFAULT_READY_TIMEOUT_MS = 120_000;
/** SIGINT lets the agent flush its queue and `run` its consumer and nats-server; SIGKILL after this. */
export const DEFAULT_STOP_TIMEOUT_MS = 90_000;
/**
 * A scrape waits this long: a tracer whose event loop is stalled (a store
 * retention run, a burst of work) answers late, and how late is worth
 * reporting; it is not dead.
 */
export const DEFAULT_SCRAPE_TIMEOUT_MS = 60_000;
/** The agent's log line once bpftrace's BEGIN arrived (src/agent). */
export const PROBES_ATTACHED_LOG = "probes attached";

const OUTPUT_TAIL = 8192;
/** `tcptrail run` logs the pid of the nats-server it starts (src/runtime/main-job). */
const NATS_PID_LOG = /"natsPid":(\d+)/;

/**
 * `run` starts its nats-server in a process group of its own, so that a
 * Ctrl-C reaches tcptrail first, and stops it on the way out; a SIGKILLed
 * tcptrail cannot, and the server would outlive the bench. End it by pid.
 */
async function endOrphan(pid: number, command: string): Promise<void> {
  // Still that process, not another that got its pid since.
  const alive = () => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(command);
    } catch {
      return false;
    }
  };
  if (!alive()) return;
  process.kill(pid, "SIGTERM");
  const deadline = performance.now() + 5000;
  while (alive() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (alive()) process.kill(pid, "SIGKILL");
}

export interface TcptrailProcessOptions {
  /** Its /metrics port on 127.0.0.1: pass the same port in args (--metrics-port). */
  metricsPort: number;
  readyTimeoutMs?: number;
  /** Default DEFAULT_STOP_TIMEOUT_MS. */
  stopTimeoutMs?: number;
  env?: Record<string, string>;
  /** The executable. Default TCPTRAIL_BIN. */
  bin?: string;
}

export interface TcptrailProcess {
  pid: number;
  metricsUrl: string;
  scrape(): Promise<MetricSamples>;
  /** The last few KiB of its stdout and stderr (its log), for error messages. */
  output(): string;
  /** SIGINT, wait for the exit (SIGKILL after the stop timeout, and its nats-server with it). Idempotent. */
  stop(): Promise<TcptrailExit>;
}

export interface TcptrailExit {
  exitCode: number | undefined;
  signal: string | undefined;
  /** It did not exit within the stop timeout of SIGINT and was killed (with the nats-server it had started). */
  killed: boolean;
  /** From SIGINT to the exit, ms. */
  stopMs: number;
}

/**
 * Start `bin/tcptrail <args>` and resolve once its probes are attached (the
 * log line) and its /metrics answers. Rejects, with the child stopped and
 * its log in the message, when it exits or does not get there in time.
 */
export async function startTcptrail(args: readonly string[], o: TcptrailProcessOptions): Promise<TcptrailProcess> {
  const bin = o.bin ?? TCPTRAIL_BIN;
  const child: ResultPromise<{ stdin: "ignore"; reject: false; buffer: false; forceKillAfterDelay: false }> = execa(bin, args, {
    stdin: "ignore",
    reject: false,
    buffer: false,
    forceKillAfterDelay: false,
    ...(o.env ? { env: o.env } : {}),
  });
  if (child.pid === undefined) throw new Error(`could not start ${bin}`);
  const pid = child.pid;
  let tail = "";
  let attached = false;
  let natsPid: number | undefined;
  const onOutput = (d: Buffer) => {
    tail = (tail + d.toString("utf8")).slice(-OUTPUT_TAIL);
    if (!attached && tail.includes(PROBES_ATTACHED_LOG)) attached = true;
    natsPid ??= Number(NATS_PID_LOG.exec(tail)?.[1] ?? NaN) || undefined;
  };
  // Always drained: a full pipe would stall the logger and with it the process.
  child.stdout.on("data", onOutput);
  child.stderr.on("data", onOutput);
  let exit: { exitCode: number | undefined; signal: string | undefined } | undefined;
  const exited = child.then((r) => (exit = { exitCode: r.exitCode, signal: r.signal }));
  const metricsUrl = `http://127.0.0.1:${o.metricsPort}/metrics`;

  let stopping: Promise<TcptrailExit> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      const t0 = performance.now();
      if (!exit) child.kill("SIGINT");
      let killed = false;
      const timer = setTimeout(() => {
        killed = true;
        child.kill("SIGKILL");
      }, o.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS);
      const r = await exited.finally(() => clearTimeout(timer));
      const stopMs = performance.now() - t0;
      if (killed && natsPid !== undefined) await endOrphan(natsPid, "nats-server");
      return { ...r, killed, stopMs };
    })());
  const proc: TcptrailProcess = { pid, metricsUrl, scrape: () => scrapeMetrics(metricsUrl, DEFAULT_SCRAPE_TIMEOUT_MS), output: () => tail, stop };

  const timeoutMs = o.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const deadline = performance.now() + timeoutMs;
  try {
    for (;;) {
      if (exit) throw new Error(`tcptrail ${args[0] ?? ""} exited (${exit.exitCode ?? exit.signal}) before its probes were attached:\n${tail}`);
      if (attached && (await scrapeMetrics(metricsUrl).then(() => true, () => false))) return proc;
      if (performance.now() > deadline) throw new Error(`tcptrail ${args[0] ?? ""} not ready after ${timeoutMs} ms (probes attached: ${attached}, ${metricsUrl}):\n${tail}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } catch (e) {
    await stop();
    throw e;
  }
}
