// The bearer token check. Tokens are compared as SHA-256 digests with
// timingSafeEqual: the digests always have the same length, so neither the
// token's length nor how many leading characters a guess got right shows in
// the response time (timingSafeEqual itself throws on unequal lengths, and a
// plain === returns at the first difference).
import { createHash, timingSafeEqual } from "node:crypto";
import { InvalidArgumentError } from "../../errors/mod.js";
import { API_TOKEN_SYNTAX, isApiTokenSyntax } from "../api-token.js";

export interface BearerCheck {
  /** Whether an Authorization header value carries the token. */
  accepts(authorization: string | undefined): boolean;
  /** Whether a token given some other way (the web view's session cookie) is the token. */
  acceptsToken(token: string | undefined): boolean;
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** The token of `Authorization: Bearer <token>` (scheme case-insensitive, RFC 7235), or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const m = /^bearer +(\S+) *$/i.exec(authorization ?? "");
  return m?.[1];
}

/** @throws InvalidArgumentError for an empty token or one that cannot travel in a header. */
export function bearerCheck(token: string): BearerCheck {
  if (!isApiTokenSyntax(token)) throw InvalidArgumentError.format("token", `must be ${API_TOKEN_SYNTAX}`);
  const expected = digest(token);
  const acceptsToken = (given: string | undefined): boolean =>
    // Digest something even without a token, so a missing header costs what a wrong one does.
    timingSafeEqual(digest(given ?? ""), expected) && given !== undefined;
  return { accepts: (authorization) => acceptsToken(bearerToken(authorization)), acceptsToken };
}
