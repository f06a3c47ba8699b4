// Failures of the query layer: a bad parameter (the API answers 400) and the
// CLI's two ways of failing to get an answer from the API.
import { InvalidArgumentError, TcptrailError } from "../errors/mod.js";

/**
 * A query parameter that is well-typed but meaningless (since=abc,
 * outcome=bogus); `property` names the parameter. The API answers 400.
 */
export class BadParameterError extends InvalidArgumentError {
  override readonly code = "ERR_QUERY_BAD_PARAMETER";
}

export interface ApiUnreachableOptions extends ErrorOptions {
  /** The API base URL that did not answer. */
  url: string;
}

/** Nothing answered at the API address. */
export class ApiUnreachableError extends TcptrailError {
  readonly code = "ERR_QUERY_API_UNREACHABLE";
  readonly url: string;
  constructor(message: string, options: ApiUnreachableOptions) {
    super(message, options);
    this.url = options.url;
  }
}

export interface ApiResponseOptions extends ErrorOptions {
  /** HTTP status of the answer. */
  status: number;
  /** The API's own error kind ("BAD_PARAMETER", "NOT_FOUND"), or "BAD_RESPONSE" when the body was not JSON. */
  error: string;
}

/** The API answered with an error status; `message` is the API's own. */
export class ApiResponseError extends TcptrailError {
  readonly code = "ERR_QUERY_API_RESPONSE";
  readonly status: number;
  readonly error: string;
  constructor(message: string, options: ApiResponseOptions) {
    super(message, options);
    this.status = options.status;
    this.error = options.error;
  }
}

export const isBadParameterError = (e: unknown): e is BadParameterError => e instanceof BadParameterError;
export const isApiUnreachableError = (e: unknown): e is ApiUnreachableError => e instanceof ApiUnreachableError;
export const isApiResponseError = (e: unknown): e is ApiResponseError => e instanceof ApiResponseError;
