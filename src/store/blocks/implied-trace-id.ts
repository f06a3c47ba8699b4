// A trace id is derived from its root socket (src/trace/trace-id.ts), so a
// block need not store the 16 random bytes that compress least: the reader
// derives the id again. Ids that are not the derived one (written by other
// producers, tests, older stitchers) are stored as they are.
import type { TraceInit } from "../../model/mod.js";
import { traceId } from "../../trace/trace-id.js";

/** The socket id a trace's id derives from: hop 1's client, or its server when the client has none. */
export function rootSocketId(t: TraceInit): string {
  const first = t.hops?.[0];
  return first?.client?.socketId || first?.server?.socketId || "";
}

/** The id derived from the root socket, or null when there is none. */
export function impliedTraceId(t: TraceInit): string | null {
  const root = rootSocketId(t);
  return root ? traceId(root) : null;
}
