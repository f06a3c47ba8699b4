// Exit codes, one rule for every command: 0 done, 1 the work failed (nothing
// answered, not found, a crash), 2 the command line itself was wrong (unknown
// flag, bad value, missing argument) — so scripts can tell "fix the call"
// from "try again later".
import { CommanderError, InvalidArgumentError, type Command } from "commander";
import { isUsageError } from "./errors.js";

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * A flag value commander rejects while parsing. Commander exits with the
 * thrown error's exitCode, which is 1 for a plain InvalidArgumentError.
 */
export class BadFlagValueError extends InvalidArgumentError {
  constructor(message: string) {
    super(message);
    this.exitCode = EXIT_USAGE;
    this.name = "BadFlagValueError";
  }
}

/** The exit code for an error that ended a command. */
export function exitCodeOf(err: unknown): number {
  // Help and --version end with a CommanderError too, code 0; every other
  // CommanderError is commander telling the user the call was wrong.
  if (err instanceof CommanderError) return err.exitCode === EXIT_OK ? EXIT_OK : EXIT_USAGE;
  return isUsageError(err) ? EXIT_USAGE : EXIT_FAILURE;
}

/**
 * Runs a command's work, reporting a UsageError found there (a filter value
 * only the loaded module can check) the way commander reports its own: through
 * `cmd.error`, exit 2.
 */
export async function runCommand(cmd: Command, work: () => Promise<unknown>): Promise<void> {
  try {
    await work();
  } catch (e) {
    if (isUsageError(e)) cmd.error(e.message, { exitCode: EXIT_USAGE, code: e.code });
    throw e;
  }
}
