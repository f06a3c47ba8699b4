// Store failures, on the one error base (src/errors). Each kind has its own
// class and a stable `code`, so callers (the consumer, the API) can branch
// without matching message text; the data a caller may act on (which file,
// which parameter) travels in the options object next to `cause`.
import { TcptrailError } from "../errors/mod.js";

export type StoreErrorCode = "ERR_STORE_CLOSED" | "ERR_STORE_SCHEMA_TOO_NEW" | "ERR_STORE_BAD_QUERY";

// Not exported: isStoreError is the way to ask, so the set of kinds can grow
// without callers depending on the hierarchy.
abstract class StoreError extends TcptrailError {
  abstract override readonly code: StoreErrorCode;
}

/** The store was used after close(). */
export class StoreClosedError extends StoreError {
  readonly code = "ERR_STORE_CLOSED";
}

export interface SchemaTooNewOptions extends ErrorOptions {
  /** The database file. */
  path: string;
  /** Its schema version. */
  found: number;
  /** The newest version this tcptrail knows. */
  supported: number;
}

/** The database file was written by a newer tcptrail: refuse rather than corrupt it. */
export class SchemaTooNewError extends StoreError {
  readonly code = "ERR_STORE_SCHEMA_TOO_NEW";
  readonly path: string;
  readonly found: number;
  readonly supported: number;

  constructor(message: string, options: SchemaTooNewOptions) {
    super(message, options);
    this.path = options.path;
    this.found = options.found;
    this.supported = options.supported;
  }
}

export interface BadQueryOptions extends ErrorOptions {
  /** The query parameter that could not be interpreted ("cursor", "limit", "socket"). */
  param: string;
}

/** A query argument the store cannot interpret (malformed cursor or socket id). */
export class BadQueryError extends StoreError {
  readonly code = "ERR_STORE_BAD_QUERY";
  readonly param: string;

  constructor(message: string, options: BadQueryOptions) {
    super(message, options);
    this.param = options.param;
  }
}

export const isStoreClosedError = (e: unknown): e is StoreClosedError => e instanceof StoreClosedError;
export const isSchemaTooNewError = (e: unknown): e is SchemaTooNewError => e instanceof SchemaTooNewError;
export const isBadQueryError = (e: unknown): e is BadQueryError => e instanceof BadQueryError;
/** Any failure raised by a TraceStore implementation. */
export const isStoreError = (e: unknown): e is StoreClosedError | SchemaTooNewError | BadQueryError =>
  e instanceof StoreError;
