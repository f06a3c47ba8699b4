// Which TraceStore `--store` names, as a URL: `sqlite:<path>` (the embedded
// default, one file) or `postgres://…` / `postgresql://…` (a server several
// consumers share). Parsing is separate from opening and imports nothing but
// the error base, so the CLI checks the flag when it parses the command line
// (a usage error before anything starts) without loading a database driver.
import { InvalidArgumentError } from "../errors/mod.js";

export type StoreLocation = { kind: "sqlite"; path: string } | { kind: "postgres"; url: string };

export const STORE_URL_SYNTAX = "sqlite:<path> or postgres://[user[:password]@]host[:port]/database[?host=<socket dir>]";

/** Thrown for a --store value that names no store: its code is the invalid-argument one, so the CLI exits with its usage status. */
export class BadStoreUrlError extends InvalidArgumentError {
  override readonly code = "ERR_STORE_BAD_URL";
}

export const isBadStoreUrlError = (e: unknown): e is BadStoreUrlError => e instanceof BadStoreUrlError;

/** Where a store URL points; `property` names the flag or option in the error. */
export function parseStoreUrl(value: string, property = "--store"): StoreLocation {
  const bad = (why: string): never => {
    // Never echo a password back: it would land in logs and terminals.
    const shown = value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/, "$1:***@");
    throw BadStoreUrlError.format(property, `${why}: ${JSON.stringify(shown)} (expected ${STORE_URL_SYNTAX})`);
  };
  if (value.startsWith("sqlite:")) {
    // sqlite:/abs/path, sqlite:rel/path and sqlite:///abs/path all name a file.
    const path = value.slice("sqlite:".length).replace(/^\/\/(?=\/)/, "");
    if (path === "" || path === "//") bad("names no database file");
    return { kind: "sqlite", path };
  }
  if (/^postgres(ql)?:\/\//.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return bad("is not a valid URL");
    }
    if (url.pathname.replace(/^\//, "") === "") bad("names no database");
    if (url.hostname === "" && !url.searchParams.get("host")) bad("names no server");
    return { kind: "postgres", url: value };
  }
  return bad("is not a store URL");
}
