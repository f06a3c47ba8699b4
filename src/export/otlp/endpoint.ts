// Where spans go. OTEL_EXPORTER_OTLP_ENDPOINT (and --otlp-endpoint, the same
// value) is the collector's base URL; the OTLP/HTTP specification appends
// the signal's path to it, "v1/traces", so http://127.0.0.1:4318 posts to
// http://127.0.0.1:4318/v1/traces, as every OpenTelemetry SDK does.
import { OtlpOptionsError } from "./errors.js";

/** The OTLP/HTTP path of traces under the base endpoint. */
export const OTLP_TRACES_PATH = "v1/traces";

/**
 * The traces URL of base endpoint `endpoint`.
 * @throws OtlpOptionsError when it is not an http or https URL
 */
export function otlpTracesUrl(endpoint: string, property = "endpoint"): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw OtlpOptionsError.format(property, `must be an http:// or https:// URL, like http://127.0.0.1:4318; got "${endpoint}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw OtlpOptionsError.format(property, `must be an http:// or https:// URL (OTLP/HTTP), got "${endpoint}"`);
  }
  // The spec's rule: append to the base path, whatever it holds (a collector behind a path prefix).
  const base = url.href.endsWith("/") ? url.href : `${url.href}/`;
  return `${base}${OTLP_TRACES_PATH}`;
}
