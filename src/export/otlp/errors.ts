// Failure kinds of the OTLP export.
import { InvalidArgumentError } from "../../errors/mod.js";

/** The OTLP export was given options it cannot run with (a bad endpoint URL, a queue of 0). */
export class OtlpOptionsError extends InvalidArgumentError {
  override readonly code = "ERR_OTLP_INVALID_OPTION";
}

export const isOtlpOptionsError = (e: unknown): e is OtlpOptionsError => e instanceof OtlpOptionsError;
