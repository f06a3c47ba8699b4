// Failure kinds of the probes: the machine cannot run them (preflight), or
// bpftrace did not get them attached. Each says in its message what to do.
import { TcptrailError } from "../errors/mod.js";

/**
 * The machine cannot run the probes; the subclass says why. An area base
 * because callers (the agent's start, its tests) ask "did preflight refuse?"
 * as one question: isPreflightError.
 */
export abstract class PreflightError extends TcptrailError {}

/** No executable bpftrace where it was looked for. */
export class BpftraceMissingError extends PreflightError {
  readonly code = "ERR_PROBES_BPFTRACE_MISSING";
}

/** bpftrace is there but `--version` fails (a broken install or missing libraries). */
export class BpftraceUnusableError extends PreflightError {
  readonly code = "ERR_PROBES_BPFTRACE_UNUSABLE";
}

/** Loading eBPF programs needs root. */
export class NotRootError extends PreflightError {
  readonly code = "ERR_PROBES_NOT_ROOT";
}

/** tracefs is not mounted (and could not be mounted), so no tracepoint can be found. */
export class TracefsUnmountedError extends PreflightError {
  readonly code = "ERR_PROBES_TRACEFS_UNMOUNTED";
}

export interface TracepointMissingOptions extends ErrorOptions {
  /** "category:name", e.g. "tcp:tcp_send_reset". */
  tracepoint: string;
}

/** The kernel lacks a tracepoint the program attaches to. */
export class TracepointMissingError extends PreflightError {
  readonly code = "ERR_PROBES_TRACEPOINT_MISSING";
  readonly tracepoint: string;
  constructor(message: string, options: TracepointMissingOptions) {
    super(message, options);
    this.tracepoint = options.tracepoint;
  }
}

/** probes/tcptrail.bt is not next to the installation (a broken install or copy). */
export class ProgramMissingError extends TcptrailError {
  readonly code = "ERR_PROBES_PROGRAM_MISSING";
}

/** bpftrace started but did not attach its probes: it exited first, or took too long. */
export class ProbeAttachError extends TcptrailError {
  readonly code = "ERR_PROBES_ATTACH";
}

export const isPreflightError = (e: unknown): e is PreflightError => e instanceof PreflightError;
export const isBpftraceMissingError = (e: unknown): e is BpftraceMissingError => e instanceof BpftraceMissingError;
export const isBpftraceUnusableError = (e: unknown): e is BpftraceUnusableError => e instanceof BpftraceUnusableError;
export const isNotRootError = (e: unknown): e is NotRootError => e instanceof NotRootError;
export const isTracefsUnmountedError = (e: unknown): e is TracefsUnmountedError => e instanceof TracefsUnmountedError;
export const isTracepointMissingError = (e: unknown): e is TracepointMissingError => e instanceof TracepointMissingError;
export const isProgramMissingError = (e: unknown): e is ProgramMissingError => e instanceof ProgramMissingError;
export const isProbeAttachError = (e: unknown): e is ProbeAttachError => e instanceof ProbeAttachError;
