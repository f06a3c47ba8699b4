// Checks that this machine can run the probes, and says in one sentence what
// to do when it cannot. Runs before bpftrace is started, so the user never
// has to decode a verifier dump to learn that tracefs is not mounted.
import { accessSync, closeSync, constants, existsSync, openSync, readSync } from "node:fs";
import { delimiter, join } from "node:path";
import { execa } from "execa";

export const TRACEFS = "/sys/kernel/tracing";
const MOUNT_FIX = `mount -t tracefs tracefs ${TRACEFS}`;

/** Tracepoints tcptrail.bt attaches to; all are required. */
export const REQUIRED_TRACEPOINTS = [
  "sock/inet_sock_set_state",
  "tcp/tcp_send_reset",
  "tcp/tcp_receive_reset",
  "tcp/tcp_retransmit_skb",
  "syscalls/sys_enter_connect",
  "syscalls/sys_exit_connect",
  "syscalls/sys_exit_accept",
  "syscalls/sys_exit_accept4",
  "syscalls/sys_enter_close",
  "syscalls/sys_enter_shutdown",
  "syscalls/sys_enter_getsockopt",
  "syscalls/sys_exit_getsockopt",
] as const;

export type PreflightCode = "BPFTRACE_MISSING" | "NOT_ROOT" | "TRACEFS_UNMOUNTED" | "TRACEPOINT_MISSING";

export class PreflightError extends Error {
  readonly code: PreflightCode;
  constructor(code: PreflightCode, message: string) {
    super(message);
    this.name = "PreflightError";
    this.code = code;
  }
}

export const isPreflightError = (e: unknown): e is PreflightError => e instanceof PreflightError;

export interface ProbeFeatures {
  bpftrace: string;
  tracefs: string;
  /** kprobe_events exists: kprobe variants could load (never required). */
  kprobes: boolean;
  /** available_filter_functions is readable: kfunc/fentry could load (never required). */
  kfuncs: boolean;
}

/** Find an executable on PATH (plus the sbin directories root usually has). */
export function findExecutable(name: string): string | undefined {
  const dirs = (process.env.PATH ?? "").split(delimiter).concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

export interface PreflightOptions {
  /** bpftrace binary; default: found on PATH. */
  bpftrace?: string;
  /** Mount tracefs when it is missing and we are root. Default true. */
  mountTracefs?: boolean;
}

/** Throws PreflightError with the fix when the probes cannot run here. */
export async function preflight(opts: PreflightOptions = {}): Promise<ProbeFeatures> {
  const bpftrace = opts.bpftrace ?? findExecutable("bpftrace");
  if (!bpftrace || !executable(bpftrace)) {
    throw new PreflightError("BPFTRACE_MISSING", "bpftrace is not installed: run `apt-get install -y bpftrace` (or deploy/setup.sh).");
  }
  const root = process.getuid?.() === 0;
  if (!root) {
    throw new PreflightError("NOT_ROOT", "the tcptrail agent loads eBPF programs and must run as root: run it with sudo.");
  }
  if (!existsSync(join(TRACEFS, "events"))) {
    if (opts.mountTracefs !== false) {
      await execa("mount", ["-t", "tracefs", "tracefs", TRACEFS], { reject: false });
    }
    if (!existsSync(join(TRACEFS, "events"))) {
      throw new PreflightError("TRACEFS_UNMOUNTED", `tracefs is not mounted, so bpftrace cannot find tracepoints: run \`${MOUNT_FIX}\`.`);
    }
  }
  for (const tp of REQUIRED_TRACEPOINTS) {
    if (!existsSync(join(TRACEFS, "events", tp))) {
      throw new PreflightError("TRACEPOINT_MISSING", `this kernel has no tracepoint ${tp.replace("/", ":")}: tcptrail needs Linux 6.10 or newer with tracepoints enabled.`);
    }
  }
  return {
    bpftrace,
    tracefs: TRACEFS,
    kprobes: existsSync(join(TRACEFS, "kprobe_events")),
    kfuncs: canRead(join(TRACEFS, "available_filter_functions")),
  };
}

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Lockdown lets root open available_filter_functions but refuses the read (EPERM). */
function canRead(p: string): boolean {
  let fd: number | undefined;
  try {
    fd = openSync(p, "r");
    return readSync(fd, Buffer.alloc(64), 0, 64, 0) > 0;
  } catch {
    return false;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
