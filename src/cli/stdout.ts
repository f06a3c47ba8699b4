// A closed stdout is how a pipe reader says "enough" (`tcptrail observe | head
// -1`): not a failure. Node reports it as an EPIPE 'error' on process.stdout,
// which, unhandled, crashes with a stack trace. Here it ends the command
// quietly with status 0, and streaming commands learn of it through
// stdoutClosed() so a follow loop stops its subscriptions the way it does on
// Ctrl-C instead of being cut off mid-drain.
import { EXIT_OK } from "./exit.js";

/** How long a command may take to wind down after its reader went away before the process ends anyway. */
export const DEFAULT_STDOUT_CLOSED_GRACE_MS = 2_000;

const closed = new AbortController();

/** Aborts once stdout's reader has gone away. */
export function stdoutClosed(): AbortSignal {
  return closed.signal;
}

const isEpipe = (e: unknown): boolean => (e as { code?: unknown } | null)?.code === "EPIPE";

/**
 * Installs the handler once (main.ts). Any later write error on a stdout
 * already closed is the same condition, not a new failure.
 */
export function handleClosedStdout(stream: NodeJS.WriteStream = process.stdout, graceMs = DEFAULT_STDOUT_CLOSED_GRACE_MS): void {
  stream.on("error", (e: unknown) => {
    if (!isEpipe(e) && !closed.signal.aborted) throw e;
    if (closed.signal.aborted) return;
    process.exitCode = EXIT_OK;
    closed.abort();
    // Commands that do not stream have nothing to wind down; a follow loop
    // gets the grace to drain NATS. unref: a command that ends sooner ends the process.
    setTimeout(() => process.exit(EXIT_OK), graceMs).unref();
  });
}
