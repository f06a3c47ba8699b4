// How a command fails, by kind: the exit code follows from the kind (see
// ./exit.ts), never from where in the code the failure was noticed.

/** The command line asked for something meaningless: a bad value, an unknown name. Exit 2. */
export class UsageError extends Error {
  readonly code = "USAGE" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "UsageError";
  }
}

/** What the command line names does not exist (a trace id, an endpoint without traces). Exit 1. */
export class NotFoundError extends Error {
  readonly code = "NOT_FOUND" as const;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NotFoundError";
  }
}

export const isUsageError = (e: unknown): e is UsageError => e instanceof UsageError;
export const isNotFoundError = (e: unknown): e is NotFoundError => e instanceof NotFoundError;
