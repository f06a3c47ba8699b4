// Long-lived lab processes (sidecars, apps): started inside a pod's netns,
// detached so they outlive the CLI invocation that started them, and stopped
// later strictly by PID, checked against the recorded start time so a reused
// PID is never signalled.
import { type ChildProcess, spawn } from "node:child_process";
import { open, readFile } from "node:fs/promises";
import { LabTimeoutError } from "./errors.js";
import { inNetns } from "./exec.js";
import { TCP_LISTEN, tcpSocketsOf } from "./proc-net-tcp.js";

export interface SpawnedProcess {
  pid: number;
  startTime: number;
  argv: string[];
}

export interface SpawnInNetnsOptions {
  /** stdout and stderr are appended to this file. */
  log: string;
  /** Extra environment. Default: none. */
  env?: Record<string, string>;
}

/** Start `file args` inside `netns`. `ip netns exec` execs in place, so the PID is the program's. */
export async function spawnInNetns(
  netns: string,
  file: string,
  args: readonly string[],
  opts: SpawnInNetnsOptions,
): Promise<SpawnedProcess> {
  const [bin, argv] = inNetns(netns, file, args);
  // node:child_process rather than execa here: a daemon must get plain file
  // descriptors (execa only types fds 3-9 and otherwise pipes through this
  // process), and nothing in this process may stay attached to it, so that the
  // CLI that ran `lab up` can exit and the daemon keep running.
  const log = await open(opts.log, "a");
  let child: ChildProcess;
  try {
    child = spawn(bin, argv, {
      detached: true,
      stdio: ["ignore", log.fd, log.fd],
      env: { ...process.env, ...opts.env },
    });
  } finally {
    // The child holds its own copy of the fd.
    await log.close();
  }
  child.unref();
  // Exit is observed through /proc; a failed exec surfaces as a missing start time below.
  child.on("error", () => undefined);
  const pid = child.pid;
  if (pid === undefined) throw new LabTimeoutError(`${file} did not start in ${netns}`);
  const startTime = await processStartTime(pid);
  if (startTime === undefined) throw new LabTimeoutError(`${file} exited at once in ${netns} (see ${opts.log})`);
  return { pid, startTime, argv: [file, ...args] };
}

/** Start time of a live (non-zombie) process in clock ticks since boot, or undefined. */
export async function processStartTime(pid: number): Promise<number | undefined> {
  let stat: string;
  try {
    stat = await readFile(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // comm (field 2) may hold spaces and parentheses: fields are counted after the last ')'.
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  if (rest[0] === "Z" || rest[0] === "X") return undefined;
  const start = Number(rest[19]);
  return Number.isFinite(start) ? start : undefined;
}

export async function isAlive(p: { pid: number; startTime: number }): Promise<boolean> {
  return (await processStartTime(p.pid)) === p.startTime;
}

export interface StopOptions {
  /** First signal. Default: "SIGTERM". */
  signal?: NodeJS.Signals;
  /** SIGKILL after this many ms if still alive. Default: 3000. */
  graceMs?: number;
}

/** Signal the process if it is still the one recorded; resolves once it is gone. Idempotent. */
export async function stopProcess(p: { pid: number; startTime: number }, opts: StopOptions = {}): Promise<void> {
  if (!(await isAlive(p))) return;
  signal(p.pid, opts.signal ?? "SIGTERM");
  const deadline = Date.now() + (opts.graceMs ?? 3000);
  while (Date.now() < deadline) {
    if (!(await isAlive(p))) return;
    await sleep(20);
  }
  if (await isAlive(p)) signal(p.pid, "SIGKILL");
  await waitFor(async () => !(await isAlive(p)), 3000, `process ${p.pid} did not exit after SIGKILL`);
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ESRCH") throw e;
  }
}

/**
 * How long a lab process may take to listen. Generous on purpose: it is a
 * deadline for a condition polled every 20 ms, so it costs nothing when things
 * work, and a loaded 2-core CI machine took more than 5 s to start node.
 */
export const DEFAULT_LISTENER_TIMEOUT_MS = 30_000;

/** Resolve once the netns of `pid` has a TCP listener on `port`. */
export async function waitForListener(pid: number, port: number, timeoutMs = DEFAULT_LISTENER_TIMEOUT_MS): Promise<void> {
  await waitFor(
    async () => (await tcpSocketsOf(pid)).some((s) => s.state === TCP_LISTEN && s.local.port === port),
    timeoutMs,
    `nothing listens on port ${port} in the netns of pid ${pid}`,
    async () => {
      if ((await processStartTime(pid)) === undefined) throw new LabTimeoutError(`pid ${pid} exited before listening on ${port}`);
    },
  );
}

export async function waitFor(
  cond: () => Promise<boolean>,
  timeoutMs: number,
  what: string,
  check?: () => Promise<void>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (check) await check();
    if (Date.now() > deadline) throw new LabTimeoutError(`timed out: ${what}`);
    await sleep(20);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
