// Usage errors of `tcptrail observe`: the CLI turns these into exit code 2.
// (A bad --since is the time grammar's InvalidTimeError, src/timefmt.)

export type ObserveErrorCode = "INVALID_FILTER";

export abstract class ObserveError extends Error {
  abstract readonly code: ObserveErrorCode;
}

export class InvalidFilterError extends ObserveError {
  readonly code = "INVALID_FILTER" as const;
  constructor(readonly flag: string, readonly value: string, hint: string) {
    super(`invalid ${flag} "${value}": ${hint}`);
    this.name = "InvalidFilterError";
  }
}

export const isObserveError = (e: unknown): e is ObserveError => e instanceof ObserveError;
export const isInvalidFilterError = (e: unknown): e is InvalidFilterError =>
  isObserveError(e) && e.code === "INVALID_FILTER";
