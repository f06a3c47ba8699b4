// Usage errors of `tcptrail observe`: the CLI turns these into exit code 2.

export type ObserveErrorCode = "INVALID_SINCE" | "INVALID_FILTER";

export abstract class ObserveError extends Error {
  abstract readonly code: ObserveErrorCode;
}

export class InvalidSinceError extends ObserveError {
  readonly code = "INVALID_SINCE" as const;
  constructor(readonly value: string) {
    super(`invalid --since "${value}": use a duration like 30s, 5m, 1h30m or an RFC 3339 time like 2026-11-21T10:00:00Z`);
    this.name = "InvalidSinceError";
  }
}

export class InvalidFilterError extends ObserveError {
  readonly code = "INVALID_FILTER" as const;
  constructor(readonly flag: string, readonly value: string, hint: string) {
    super(`invalid ${flag} "${value}": ${hint}`);
    this.name = "InvalidFilterError";
  }
}

export const isObserveError = (e: unknown): e is ObserveError => e instanceof ObserveError;
export const isInvalidSinceError = (e: unknown): e is InvalidSinceError => isObserveError(e) && e.code === "INVALID_SINCE";
export const isInvalidFilterError = (e: unknown): e is InvalidFilterError =>
  isObserveError(e) && e.code === "INVALID_FILTER";
