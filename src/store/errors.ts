// Store failures. Each kind has its own class and a stable `code`, so callers
// (the consumer, the API) can branch without matching message text.

export type StoreErrorCode = "STORE_CLOSED" | "STORE_SCHEMA_TOO_NEW" | "STORE_BAD_QUERY";

abstract class StoreErrorBase extends Error {
  abstract readonly code: StoreErrorCode;
}

/** The store was used after close(). */
export class StoreClosedError extends StoreErrorBase {
  readonly code = "STORE_CLOSED" as const;
  constructor() {
    super("the trace store is closed");
    this.name = "StoreClosedError";
  }
}

/** The database file was written by a newer tcptrail: refuse rather than corrupt it. */
export class SchemaTooNewError extends StoreErrorBase {
  readonly code = "STORE_SCHEMA_TOO_NEW" as const;
  constructor(
    readonly path: string,
    readonly found: number,
    readonly supported: number,
  ) {
    super(`${path} has schema version ${found}, this tcptrail supports up to ${supported}`);
    this.name = "SchemaTooNewError";
  }
}

/** A query argument the store cannot interpret (malformed cursor or socket id). */
export class BadQueryError extends StoreErrorBase {
  readonly code = "STORE_BAD_QUERY" as const;
  constructor(
    readonly param: string,
    message: string,
  ) {
    super(message);
    this.name = "BadQueryError";
  }
}

export const isStoreClosedError = (e: unknown): e is StoreClosedError => e instanceof StoreClosedError;
export const isSchemaTooNewError = (e: unknown): e is SchemaTooNewError => e instanceof SchemaTooNewError;
export const isBadQueryError = (e: unknown): e is BadQueryError => e instanceof BadQueryError;
/** Any failure raised by a TraceStore implementation. */
export const isStoreError = (e: unknown): e is StoreClosedError | SchemaTooNewError | BadQueryError =>
  e instanceof StoreErrorBase;
