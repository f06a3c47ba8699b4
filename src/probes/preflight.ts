// Checks that this machine can run the probes, and says in one sentence what
// to do when it cannot. Runs before bpftrace is started, so the user never
// has to decode a verifier dump to learn that tracefs is not mounted.
import { closeSync, existsSync, openSync, readSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { BpftraceMissingError, BpftraceUnusableError, NotRootError, TracefsUnmountedError, TracepointMissingError } from "./errors.js";
import { BPFTRACE_ENV, probeBpftraceVersion, findBpftrace, isCurrentBpftrace, isExecutable, type BpftraceSource, type BpftraceVersion, type FindBpftraceOptions } from "./bpftrace-binary.js";

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
  // Kernel 6.3+: a sidecar thread's reads and sends (socket links, issue 10).
  "sock/sock_recv_length",
  "sock/sock_send_length",
  "sched/sched_process_exit",
] as const;

export interface ProbeFeatures {
  bpftrace: string;
  /** Which rule found it: --bpftrace, $TCPTRAIL_BPFTRACE, the private prefix or PATH. */
  bpftraceSource: BpftraceSource;
  /** From `bpftrace --version`. */
  bpftraceVersion: BpftraceVersion;
  /** 0.21 or newer: ring-buffer output that keeps up; older ones cap near 80k events/s. */
  currentBpftrace: boolean;
  tracefs: string;
  /** kprobe_events exists: kprobe variants could load (never required). */
  kprobes: boolean;
  /** available_filter_functions is readable: kfunc/fentry could load (never required). */
  kfuncs: boolean;
}

export interface PreflightOptions extends FindBpftraceOptions {
  /** Mount tracefs when it is missing and we are root. Default true. */
  mountTracefs?: boolean;
}

/** Throws a PreflightError (its subclass names the problem) with the fix when the probes cannot run here. */
export async function preflight(opts: PreflightOptions = {}): Promise<ProbeFeatures> {
  const found = findBpftrace(opts);
  if (!found || !isExecutable(found.path)) {
    const where = found ? ` at ${found.path} (${describeSource(found.source)})` : "";
    throw new BpftraceMissingError(`bpftrace is not installed${where}: run deploy/setup.sh (or \`apt-get install -y bpftrace\`).`);
  }
  const bpftrace = found.path;
  const root = process.getuid?.() === 0;
  if (!root) {
    throw new NotRootError("the tcptrail agent loads eBPF programs and must run as root: run it with sudo.");
  }
  if (!existsSync(join(TRACEFS, "events"))) {
    if (opts.mountTracefs !== false) {
      await execa("mount", ["-t", "tracefs", "tracefs", TRACEFS], { reject: false });
    }
    if (!existsSync(join(TRACEFS, "events"))) {
      throw new TracefsUnmountedError(`tracefs is not mounted, so bpftrace cannot find tracepoints: run \`${MOUNT_FIX}\`.`);
    }
  }
  for (const tp of REQUIRED_TRACEPOINTS) {
    if (!existsSync(join(TRACEFS, "events", tp))) {
      const tracepoint = tp.replace("/", ":");
      throw new TracepointMissingError(`this kernel has no tracepoint ${tracepoint}: tcptrail needs Linux 6.10 or newer with tracepoints enabled.`, { tracepoint });
    }
  }
  // Last: the cheap checks above answer first when the machine is not ready.
  let probe = await probeBpftraceVersion(bpftrace);
  // A loaded machine can time out or kill the first start of a 290 MB bpftrace
  // (cold page cache): one more try before telling the user the install is broken.
  if (!probe.version && probe.transient) probe = await probeBpftraceVersion(bpftrace);
  const version = probe.version;
  if (!version) {
    throw new BpftraceUnusableError(
      `\`${bpftrace} --version\` failed (${describeSource(found.source)}; ${probe.failure ?? "no version"}): run deploy/setup.sh to reinstall bpftrace.`,
    );
  }
  return {
    bpftrace,
    bpftraceSource: found.source,
    bpftraceVersion: version,
    currentBpftrace: isCurrentBpftrace(version),
    tracefs: TRACEFS,
    kprobes: existsSync(join(TRACEFS, "kprobe_events")),
    kfuncs: canRead(join(TRACEFS, "available_filter_functions")),
  };
}

function describeSource(source: BpftraceSource): string {
  switch (source) {
    case "option":
      return "from --bpftrace";
    case "env":
      return `from $${BPFTRACE_ENV}`;
    case "prefix":
      return "the private install of deploy/setup.sh";
    case "path":
      return "found on PATH";
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
