// Failure kinds of the mesh lab. Each has a stable `code` so callers (the CLI,
// the end-to-end tests) can branch on the kind without parsing messages.

/** Base class: every error the lab throws is a LabError. */
export class LabError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "LabError";
    this.code = code;
  }
}

/** A system command (`ip`, `iptables-restore`, `tcpdump`...) failed. */
export class LabCommandError extends LabError {
  readonly command: string;
  readonly stderr: string;
  constructor(command: string, stderr: string, options?: { cause?: unknown }) {
    super("ERR_LAB_COMMAND", `${command} failed: ${stderr.trim() || "no output"}`, options);
    this.name = "LabCommandError";
    this.command = command;
    this.stderr = stderr;
  }
}

/** An option is out of range (bad pod name, subnet, name too long for an interface). */
export class LabOptionError extends LabError {
  constructor(message: string) {
    super("ERR_LAB_OPTION", message);
    this.name = "LabOptionError";
  }
}

/** The lab is not in the state the operation needs (not up, already up, unknown pod). */
export class LabStateError extends LabError {
  constructor(message: string) {
    super("ERR_LAB_STATE", message);
    this.name = "LabStateError";
  }
}

/** Something the lab waits for (a listener, tcpdump attaching) did not happen in time. */
export class LabTimeoutError extends LabError {
  constructor(message: string) {
    super("ERR_LAB_TIMEOUT", message);
    this.name = "LabTimeoutError";
  }
}

export const isLabError = (e: unknown): e is LabError => e instanceof LabError;
export const isLabCommandError = (e: unknown): e is LabCommandError => e instanceof LabCommandError;
export const isLabOptionError = (e: unknown): e is LabOptionError => e instanceof LabOptionError;
export const isLabStateError = (e: unknown): e is LabStateError => e instanceof LabStateError;
export const isLabTimeoutError = (e: unknown): e is LabTimeoutError => e instanceof LabTimeoutError;
