// How the web view carries the API token. A page cannot make EventSource (the
// live list) send an Authorization header, so a browser proves it has the
// token with a cookie instead: the page's login form POSTs the token once to
// /login, which checks it and sets it as an HttpOnly, SameSite=Strict session
// cookie. HttpOnly: the page's scripts never read it back; SameSite=Strict: no
// other site's page makes the browser send it; and the Host check (DNS
// rebinding) runs before the cookie is looked at. The cookie holds the token
// itself (URI-encoded: a token may contain ; , " which a cookie cannot), so
// rotating the token logs every browser out.
export const WEB_TOKEN_COOKIE = "tcptrail_token";

/** A cookie's value from a Cookie request header, decoded; undefined when absent or malformed. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== name) continue;
    try {
      return decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Set-Cookie for a browser session holding `token` (no Max-Age: it ends with the browser). */
export const sessionCookie = (token: string): string =>
  `${WEB_TOKEN_COOKIE}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;

/** Set-Cookie that removes the session. */
export const clearedSessionCookie = (): string => `${WEB_TOKEN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
