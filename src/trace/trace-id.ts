// Trace ids are derived from the identity of the first hop's client socket, so
// stitching the same events again (consumer restart, replay) yields the same
// id and the store's writes stay idempotent.
import { createHash } from "node:crypto";
import { formatSocketId, type KernelNs } from "../model/mod.js";

/** "node/sock/birth_ns": a socket's identity across pointer reuse. */
export function socketId(node: string, sock: string, birthNs: KernelNs): string {
  return formatSocketId({ node, sock, birthNs });
}

/** 128-bit hex id of the trace rooted at socket `rootSocketId`. */
export function traceId(rootSocketId: string): string {
  return createHash("sha256").update(rootSocketId).digest("hex").slice(0, 32);
}
