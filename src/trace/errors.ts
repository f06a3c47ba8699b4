// Errors of the trace layer. Malformed events are counted, never thrown: only
// bad options and the stitcher's own limits raise.
import { InvalidArgumentError, TcptrailError } from "../errors/mod.js";

/** An option of the stitcher is out of range. */
export class StitcherOptionsError extends InvalidArgumentError {
  override readonly code = "ERR_TRACE_INVALID_OPTION";
}

export interface TooManyNodesOptions extends ErrorOptions {
  /** How many nodes one stitcher tracks at most. */
  limit: number;
}

/**
 * A batch from one node more than the stitcher can tell apart (node indices
 * are 16-bit): the consumer skips the batch rather than stop.
 */
export class TooManyNodesError extends TcptrailError {
  readonly code = "ERR_TRACE_TOO_MANY_NODES";
  readonly limit: number;
  constructor(message: string, options: TooManyNodesOptions) {
    super(message, options);
    this.limit = options.limit;
  }
}

export const isStitcherOptionsError = (e: unknown): e is StitcherOptionsError => e instanceof StitcherOptionsError;
export const isTooManyNodesError = (e: unknown): e is TooManyNodesError => e instanceof TooManyNodesError;
