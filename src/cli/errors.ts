// How a command fails, by kind: the exit code follows from the kind (see
// ./exit.ts), never from where in the code the failure was noticed.
// A bad value anywhere below the CLI is an InvalidArgumentError (src/errors)
// and counts as a usage error too; these two are the CLI's own kinds.
import { TcptrailError } from "../errors/mod.js";

/** The command line asked for something meaningless: an unknown name, a value only the API could refuse. Exit 2. */
export class UsageError extends TcptrailError {
  readonly code = "ERR_CLI_USAGE";
}

/** What the command line names does not exist (a trace id, an endpoint without traces). Exit 1, one sentence. */
export class NotFoundError extends TcptrailError {
  readonly code = "ERR_CLI_NOT_FOUND";
}

export const isUsageError = (e: unknown): e is UsageError => e instanceof UsageError;
export const isNotFoundError = (e: unknown): e is NotFoundError => e instanceof NotFoundError;
