// Failure kinds of the CRI pod resolver: the runtime's socket did not answer
// (or answered with a gRPC error). The resolver itself never throws on the
// event path; these reach whoever asked the runtime directly (the choice of
// resolver at start, tests).
import { TcptrailError } from "../../errors/mod.js";

export interface CriCallErrorOptions extends ErrorOptions {
  /** The RPC, e.g. "ListPodSandbox". */
  method: string;
  /** The socket path asked. */
  socket: string;
  /** gRPC status code (14 UNAVAILABLE: nothing listens; 4 DEADLINE_EXCEEDED; 12 UNIMPLEMENTED: not a CRI v1 runtime). */
  grpcCode?: number;
}

/** A CRI call failed: the socket is absent, does not speak CRI v1, or the runtime refused. */
export class CriCallError extends TcptrailError {
  readonly code = "ERR_CRI_CALL";
  readonly method: string;
  readonly socket: string;
  readonly grpcCode: number | undefined;

  constructor(message: string, options: CriCallErrorOptions) {
    super(message, options);
    this.method = options.method;
    this.socket = options.socket;
    this.grpcCode = options.grpcCode;
  }
}

export const isCriCallError = (e: unknown): e is CriCallError => e instanceof CriCallError;
