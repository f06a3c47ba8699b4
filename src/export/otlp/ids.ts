// OpenTelemetry ids derived from tcptrail's own identities, so exporting the
// same trace twice (a consumer restart that re-stitches it, a re-export from
// the store) gives a backend the same trace and span ids: it deduplicates or
// overwrites instead of showing the connection twice. Random ids, as an SDK
// makes them, would not survive that.
import { createHash } from "node:crypto";

// Domain separation: the OTLP trace id must not simply be tcptrail's own trace
// id (a different thing, with its own length and meaning), and a span id must
// never collide with a prefix of a trace id.
const TRACE_DOMAIN = "tcptrail/otlp/trace\0";
const SPAN_DOMAIN = "tcptrail/otlp/span\0";

function hexDigest(domain: string, ...parts: string[]): string {
  const h = createHash("sha256").update(domain);
  for (const p of parts) h.update(p).update("\0");
  return h.digest("hex");
}

// The W3C and OTLP specifications call an all-zero id invalid; a hash gives
// one with probability 2^-64 at worst, but a backend would drop the span.
function nonZero(hex: string): string {
  return /^0+$/.test(hex) ? `${hex.slice(0, -1)}1` : hex;
}

/** The 16-byte (32 hex) OTLP trace id of tcptrail trace `traceId`. */
export function otlpTraceId(traceId: string): string {
  return nonZero(hexDigest(TRACE_DOMAIN, traceId).slice(0, 32));
}

/**
 * The 8-byte (16 hex) OTLP span id of one socket leg of a trace. The trace id
 * is part of it because a pooled connection's socket belongs to several
 * traces: each trace's span of it must be its own span.
 */
export function otlpSpanId(traceId: string, socketId: string): string {
  return nonZero(hexDigest(SPAN_DOMAIN, traceId, socketId).slice(0, 16));
}
