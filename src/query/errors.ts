// Failures of the query layer: a bad parameter (the API answers 400) and the
// CLI's two ways of failing to get an answer from the API.

export type QueryErrorCode = "BAD_PARAMETER" | "API_UNREACHABLE" | "API_ERROR";

abstract class QueryErrorBase extends Error {
  abstract readonly code: QueryErrorCode;
}

/** A query parameter that is well-typed but meaningless (since=abc, outcome=bogus). */
export class BadParameterError extends QueryErrorBase {
  readonly code = "BAD_PARAMETER" as const;
  constructor(
    readonly parameter: string,
    message: string,
  ) {
    super(message);
    this.name = "BadParameterError";
  }
}

/** Nothing answered at the API address. */
export class ApiUnreachableError extends QueryErrorBase {
  readonly code = "API_UNREACHABLE" as const;
  constructor(
    readonly url: string,
    options?: { cause?: unknown },
  ) {
    super(`cannot reach the tcptrail API at ${url}: is \`tcptrail run\` running?`, options);
    this.name = "ApiUnreachableError";
  }
}

/** The API answered with an error status; `message` is the API's own. */
export class ApiResponseError extends QueryErrorBase {
  readonly code = "API_ERROR" as const;
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiResponseError";
  }
}

export const isBadParameterError = (e: unknown): e is BadParameterError => e instanceof BadParameterError;
export const isApiUnreachableError = (e: unknown): e is ApiUnreachableError => e instanceof ApiUnreachableError;
export const isApiResponseError = (e: unknown): e is ApiResponseError => e instanceof ApiResponseError;
