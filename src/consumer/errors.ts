// Failure kinds of the trace consumer service.
import { InvalidArgumentError } from "../errors/mod.js";

/**
 * startConsumerService() was given options it cannot run with. An
 * InvalidArgumentError (naming the option in `property`) with the consumer's
 * own code, so a caller can tell whose options were wrong.
 */
export class ConsumerOptionsError extends InvalidArgumentError {
  override readonly code = "ERR_CONSUMER_INVALID_OPTION";
}

export const isConsumerOptionsError = (e: unknown): e is ConsumerOptionsError => e instanceof ConsumerOptionsError;
