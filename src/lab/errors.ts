// Failure kinds of the mesh lab, each a TcptrailError with a stable code so
// callers (the CLI, the end-to-end tests) branch on the kind without parsing messages.
import { InvalidArgumentError, TcptrailError } from "../errors/mod.js";

export interface LabCommandOptions extends ErrorOptions {
  /** The command line that failed, as run (`ip netns exec tt-a iptables-restore`). */
  command: string;
  /** What it printed on stderr (or why it produced no answer). */
  stderr: string;
}

/** A system command (`ip`, `iptables-restore`, `tcpdump`...) failed. */
export class LabCommandError extends TcptrailError {
  readonly code = "ERR_LAB_COMMAND";
  readonly command: string;
  readonly stderr: string;
  constructor(message: string, options: LabCommandOptions) {
    super(message, options);
    this.command = options.command;
    this.stderr = options.stderr;
  }

  /** "<command> failed: <stderr>", the message every failed command gets. */
  static failed(command: string, stderr: string, options?: ErrorOptions): LabCommandError {
    return new LabCommandError(`${command} failed: ${stderr.trim() || "no output"}`, { ...options, command, stderr });
  }
}

/** An option is out of range (bad pod name, subnet, name too long for an interface); `property` names it. */
export class LabOptionError extends InvalidArgumentError {
  override readonly code = "ERR_LAB_INVALID_OPTION";
}

/** The lab is not in the state the operation needs (not up, already up, unknown pod). */
export class LabStateError extends TcptrailError {
  readonly code = "ERR_LAB_STATE";
}

/** Something the lab waits for (a listener, tcpdump attaching) did not happen in time. */
export class LabTimeoutError extends TcptrailError {
  readonly code = "ERR_LAB_TIMEOUT";
}

export const isLabCommandError = (e: unknown): e is LabCommandError => e instanceof LabCommandError;
export const isLabOptionError = (e: unknown): e is LabOptionError => e instanceof LabOptionError;
export const isLabStateError = (e: unknown): e is LabStateError => e instanceof LabStateError;
export const isLabTimeoutError = (e: unknown): e is LabTimeoutError => e instanceof LabTimeoutError;
