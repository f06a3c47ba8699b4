// The query API's bearer token, read one way for `run` (which requires it)
// and for the query commands (which send it): --api-token-file wins over
// TCPTRAIL_API_TOKEN, as a command-line flag wins over the environment
// everywhere else. A token file readable by its group or others is refused,
// like ssh refuses such a private key: the token is the API's only lock once
// it listens beyond loopback. Light on purpose (node:fs only): the query
// commands load it before anything else.
import { readFileSync, statSync } from "node:fs";
import { API_TOKEN_SYNTAX, isApiTokenSyntax } from "../query/api-token.js";
import type { QueryClientOptions } from "../query/client.js";
import { UsageError } from "./errors.js";
import { API_TOKEN_ENV } from "./flags.js";

export interface ApiTokenSource {
  /** --api-token-file. */
  apiTokenFile?: string;
}

/** The bits of a mode that let group or others read or write. */
const SHARED_BITS = 0o077;

/**
 * The token from the flag's file, else the environment, else undefined.
 * Surrounding whitespace (the file's final newline) is not part of it.
 * @throws UsageError when the file cannot be read, is shared with group or others, or holds no usable token.
 */
export function readApiToken(opts: ApiTokenSource, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (opts.apiTokenFile !== undefined) return tokenFromFile(opts.apiTokenFile);
  const fromEnv = env[API_TOKEN_ENV];
  // An empty variable counts as unset, as TCPTRAIL_API="" does for --api.
  if (fromEnv === undefined || fromEnv === "") return undefined;
  return checked(fromEnv.trim(), API_TOKEN_ENV);
}

function tokenFromFile(path: string): string {
  const where = `--api-token-file ${path}`;
  let text: string;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new UsageError(`${where} is not a regular file`);
    const shared = st.mode & SHARED_BITS;
    if (shared !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, "0");
      throw new UsageError(
        `${where} is ${shared & 0o044 ? "readable" : "writable"} by its group or others (mode ${mode}): it holds the API's token; \`chmod 600 ${path}\``,
      );
    }
    text = readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`cannot read ${where}: ${(e as Error).message}`, { cause: e });
  }
  return checked(text.trim(), where);
}

function checked(token: string, where: string): string {
  if (token === "") throw new UsageError(`${where} holds no token`);
  if (!isApiTokenSyntax(token)) throw new UsageError(`${where}: the token must be ${API_TOKEN_SYNTAX}`);
  return token;
}

/** What every query command passes to QueryClient: the API's URL and, when one is configured, its token. */
export function apiClientOptions(opts: ApiTokenSource & { api: string }, env: NodeJS.ProcessEnv = process.env): QueryClientOptions {
  const token = readApiToken(opts, env);
  return { url: opts.api, ...(token !== undefined ? { token } : {}) };
}
