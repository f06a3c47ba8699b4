// Opaque page cursors for listTraces: the sort key of the last row returned.
// Keyset pagination stays correct while new traces arrive, unlike OFFSET.
import { BadQueryError } from "./errors.js";

export interface CursorKey {
  startUs: number;
  traceId: string;
}

export function encodeCursor(k: CursorKey): string {
  return Buffer.from(JSON.stringify([k.startUs, k.traceId])).toString("base64url");
}

export function decodeCursor(s: string): CursorKey {
  try {
    const v: unknown = JSON.parse(Buffer.from(s, "base64url").toString("utf8"));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === "string") {
      return { startUs: v[0] as number, traceId: v[1] };
    }
  } catch {
    // fall through: any malformed cursor gets the same error
  }
  throw new BadQueryError("cursor is not one this server returned", { param: "cursor" });
}
