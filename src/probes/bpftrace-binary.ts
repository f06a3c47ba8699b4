// Which bpftrace runs the probes, and what it can do. Debian 12 ships 0.17,
// whose perf-buffer reader wakes up once per event and caps near 80k lines/s
// (a loopback churn runs at a tenth of its speed under it). deploy/setup.sh
// therefore unpacks a current bpftrace with its own libraries into a private
// prefix; the agent prefers that one to whatever is on PATH.
import { accessSync, constants } from "node:fs";
import { delimiter, join } from "node:path";
import { execa } from "execa";

/** Where deploy/setup.sh unpacks a current bpftrace; its launcher is `bin/bpftrace` there. */
export const DEFAULT_BPFTRACE_PREFIX = "/opt/tcptrail/bpftrace";

/** Environment variable naming the bpftrace binary (tests use it to run the suite on either version). */
export const BPFTRACE_ENV = "TCPTRAIL_BPFTRACE";

/** Environment variable that moves the private install; deploy/setup.sh reads the same one. */
export const BPFTRACE_PREFIX_ENV = "TCPTRAIL_BPFTRACE_PREFIX";

/**
 * The oldest bpftrace known to keep up: it prints through one BPF ring
 * buffer read in batches (0.23 reaches ~800k lines/s here) and names its
 * limits BPFTRACE_MAX_* (since 0.20). Ring-buffer output first appeared in
 * 0.19, but only 0.21+ is relied on (and 0.23 measured).
 */
export const CURRENT_BPFTRACE_MIN_VERSION = { major: 0, minor: 21 } as const;

/** BPFTRACE_PERF_RB_PAGES for older bpftrace: per-CPU perf buffers, 8 MiB each; its reader, not their size, is the bottleneck. */
export const DEFAULT_PERF_RB_PAGES = 2048;

/**
 * BPFTRACE_PERF_RB_PAGES for a current bpftrace, where it sizes the one
 * shared ring buffer (64 MiB): at full loopback churn 2048 pages lost 17% of
 * events, 16384 none.
 */
export const DEFAULT_RING_BUFFER_PAGES = 16384;

/** One line for the log when bpftrace is too old to keep up. */
export const SLOW_BPFTRACE_WARNING =
  "bpftrace older than 0.21 reads its perf buffer with a wake-up per event and caps at about 80k events/s: run deploy/setup.sh to install a current one";

export type BpftraceSource = "option" | "env" | "prefix" | "path";

export interface BpftraceLocation {
  path: string;
  /** Which rule chose it, for the log. */
  source: BpftraceSource;
}

export interface FindBpftraceOptions {
  /** An explicit binary (`--bpftrace`); wins when given, even if it is not executable (preflight says so). */
  bpftrace?: string;
  /** Environment to read BPFTRACE_ENV from. Default: process.env. */
  env?: NodeJS.ProcessEnv;
  /** Private install to look in. Default: $TCPTRAIL_BPFTRACE_PREFIX, else DEFAULT_BPFTRACE_PREFIX. */
  prefix?: string;
}

/**
 * The bpftrace to run: the explicit option, else $TCPTRAIL_BPFTRACE, else
 * the private prefix's launcher, else bpftrace on PATH (plus the sbin
 * directories root usually has). Undefined when there is none.
 */
export function findBpftrace(opts: FindBpftraceOptions = {}): BpftraceLocation | undefined {
  if (opts.bpftrace) return { path: opts.bpftrace, source: "option" };
  const env = opts.env ?? process.env;
  const fromEnv = env[BPFTRACE_ENV];
  if (fromEnv) return { path: fromEnv, source: "env" };
  const launcher = join(opts.prefix ?? (env[BPFTRACE_PREFIX_ENV] || DEFAULT_BPFTRACE_PREFIX), "bin", "bpftrace");
  if (isExecutable(launcher)) return { path: launcher, source: "prefix" };
  const onPath = findExecutable("bpftrace", env.PATH);
  return onPath ? { path: onPath, source: "path" } : undefined;
}

/** Find an executable on PATH (plus the sbin directories root usually has). */
export function findExecutable(name: string, pathVar = process.env.PATH): string | undefined {
  const dirs = (pathVar ?? "").split(delimiter).concat(["/usr/sbin", "/usr/bin", "/sbin", "/bin"]);
  for (const d of dirs) {
    if (!d) continue;
    const p = join(d, name);
    if (isExecutable(p)) return p;
  }
  return undefined;
}

export function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export interface BpftraceVersion {
  major: number;
  minor: number;
  patch: number;
  /** As bpftrace printed it, e.g. "v0.23.2". */
  text: string;
}

/** Parses `bpftrace --version` output ("bpftrace v0.23.2", "bpftrace v0.21.0-rc1"…). */
export function parseBpftraceVersion(output: string): BpftraceVersion | undefined {
  const m = /\bv?(\d+)\.(\d+)(?:\.(\d+))?[^\s]*/.exec(output);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3] ?? 0), text: m[0] };
}

/** Runs `bpftrace --version`; undefined when it does not run or prints no version. */
export async function bpftraceVersion(bpftrace: string, timeoutMs = 10_000): Promise<BpftraceVersion | undefined> {
  return (await probeBpftraceVersion(bpftrace, timeoutMs)).version;
}

/** What `bpftrace --version` said: the version, or why there is none (for the error a user reads). */
export interface BpftraceVersionProbe {
  version?: BpftraceVersion;
  /** "exit 127: error while loading shared libraries: …", "timed out after 10000 ms", "spawn … ENOENT". */
  failure?: string;
  /** The failure may pass on its own (timed out or killed on a loaded machine): worth one more try. */
  transient?: boolean;
}

export async function probeBpftraceVersion(bpftrace: string, timeoutMs = 10_000): Promise<BpftraceVersionProbe> {
  const r = await execa(bpftrace, ["--version"], { reject: false, timeout: timeoutMs, stdin: "ignore" });
  const printed = `${String(r.stdout ?? "")}\n${String(r.stderr ?? "")}`;
  if (r.exitCode === 0) {
    const version = parseBpftraceVersion(printed);
    return version ? { version } : { failure: `printed no version: ${lastLine(printed) || "nothing"}` };
  }
  const said = lastLine(String(r.stderr ?? ""));
  if (r.timedOut) return { failure: `timed out after ${timeoutMs} ms`, transient: true };
  if (r.signal) return { failure: `killed by ${r.signal}${said ? `: ${said}` : ""}`, transient: true };
  if (r.exitCode === undefined) return { failure: r.shortMessage ?? "could not be started" };
  return { failure: `exit ${r.exitCode}${said ? `: ${said}` : ""}` };
}

const lastLine = (text: string): string =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean)
    .at(-1) ?? "";

/** True for 0.21 and newer. An unknown version counts as old: a needless warning beats a silent 80k events/s cap. */
export function isCurrentBpftrace(v: BpftraceVersion | undefined): boolean {
  if (!v) return false;
  const min = CURRENT_BPFTRACE_MIN_VERSION;
  return v.major > min.major || (v.major === min.major && v.minor >= min.minor);
}

/** The output buffer size (BPFTRACE_PERF_RB_PAGES) to give this bpftrace when the user chose none. */
export function defaultPerfRbPages(v: BpftraceVersion | undefined): number {
  return isCurrentBpftrace(v) ? DEFAULT_RING_BUFFER_PAGES : DEFAULT_PERF_RB_PAGES;
}

export interface BpftraceLimits {
  perfRbPages: number;
  mapKeysMax: number;
  strlen: number;
}

/**
 * The environment that sets bpftrace's limits. 0.20 renamed the variables
 * (BPFTRACE_MAX_MAP_KEYS, BPFTRACE_MAX_STRLEN) and warns once per old name on
 * every start; 0.17 knows only the old ones. Give each version its names.
 */
export function bpftraceLimitsEnv(v: BpftraceVersion | undefined, limits: BpftraceLimits): Record<string, string> {
  const env: Record<string, string> = { BPFTRACE_PERF_RB_PAGES: String(limits.perfRbPages) };
  if (isCurrentBpftrace(v)) {
    env.BPFTRACE_MAX_MAP_KEYS = String(limits.mapKeysMax);
    env.BPFTRACE_MAX_STRLEN = String(limits.strlen);
  } else {
    env.BPFTRACE_MAP_KEYS_MAX = String(limits.mapKeysMax);
    env.BPFTRACE_STRLEN = String(limits.strlen);
  }
  return env;
}
