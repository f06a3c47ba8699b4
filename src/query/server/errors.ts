// Failures of the API server's own configuration (the client's are ../errors.ts).
import { InvalidArgumentError } from "../../errors/mod.js";

/**
 * The API was asked to listen where others can reach it (not a loopback
 * address) without a bearer token: it would serve every trace to the network.
 * A usage error: the listen address or the missing token came from the caller.
 */
export class UnprotectedListenError extends InvalidArgumentError {
  override readonly code = "ERR_QUERY_UNPROTECTED_LISTEN";
}

export const isUnprotectedListenError = (e: unknown): e is UnprotectedListenError => e instanceof UnprotectedListenError;
