// Errors of the trace layer. Malformed events are counted, never thrown: only
// programming mistakes (bad options) raise.

export type TraceErrorCode = "ERR_TRACE_OPTIONS";

export class TraceError extends Error {
  readonly code: TraceErrorCode;
  constructor(code: TraceErrorCode, message: string) {
    super(message);
    this.name = "TraceError";
    this.code = code;
  }
}

/** An option of the stitcher is out of range. */
export class StitcherOptionsError extends TraceError {
  constructor(message: string) {
    super("ERR_TRACE_OPTIONS", message);
    this.name = "StitcherOptionsError";
  }
}

export function isTraceError(e: unknown): e is TraceError {
  return e instanceof TraceError;
}

export function isStitcherOptionsError(e: unknown): e is StitcherOptionsError {
  return e instanceof StitcherOptionsError;
}
