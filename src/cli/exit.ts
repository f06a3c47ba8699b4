// Exit codes, one rule for every command: 0 done, 1 the work failed (nothing
// answered, not found, a crash), 2 the command line itself was wrong (unknown
// flag, bad value, missing argument) — so scripts can tell "fix the call"
// from "try again later". The rule reads the error's kind (its class, through
// the guards), never its message.
import { CommanderError, InvalidArgumentError as CommanderInvalidArgument, type Command } from "commander";
import { isInvalidArgumentError } from "../errors/mod.js";
import { escapeControl } from "../text/escape.js";
import { isUsageError } from "./errors.js";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * A flag value commander rejects while parsing. It stays commander's own
 * error class rather than a TcptrailError: commander reports an argParser's
 * error with the flag's name and the help only when its code is commander's
 * "commander.invalidArgument", and exits with its exitCode (1 unless set).
 */
export class BadFlagValueError extends CommanderInvalidArgument {
  constructor(message: string) {
    super(message);
    this.exitCode = EXIT_USAGE;
    this.name = "BadFlagValueError";
  }
}

/**
 * Whether the command line was wrong: the CLI's UsageError, or a value some
 * layer refused as an InvalidArgumentError (an observe filter, a time, the
 * webhook URL), since every such value came from the command line.
 */
export function isUsageFailure(err: unknown): err is Error & { code: string } {
  return isUsageError(err) || isInvalidArgumentError(err);
}

/** The exit code for an error that ended a command. */
export function exitCodeOf(err: unknown): number {
  // Help and --version end with a CommanderError too, code 0; every other
  // CommanderError is commander telling the user the call was wrong.
  if (err instanceof CommanderError) return err.exitCode === EXIT_OK ? EXIT_OK : EXIT_USAGE;
  return isUsageFailure(err) ? EXIT_USAGE : EXIT_FAILURE;
}

/**
 * The one line printed for a failure commander has not reported itself:
 * "tcptrail: <message>". A NotFoundError's message is one sentence already;
 * so is every TcptrailError's, and a foreign error gets its message too
 * rather than a stack trace.
 */
export function failureLine(err: unknown): string {
  // Messages quote what servers answered and what users typed: one line, no terminal controls.
  return `tcptrail: ${escapeControl(err instanceof Error ? err.message : String(err))}`;
}

/**
 * Runs a command's work, reporting a usage failure found there (a filter value
 * only the loaded module can check) the way commander reports its own: through
 * `cmd.error` with the help, exit 2.
 */
export async function runCommand(cmd: Command, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (e) {
    if (isUsageFailure(e)) cmd.error(e.message, { exitCode: EXIT_USAGE, code: e.code });
    throw e;
  }
}
