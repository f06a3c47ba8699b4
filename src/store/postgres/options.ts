// How a PostgresTraceStore is opened. The query defaults (page sizes,
// retention limits) are the SQLite store's, read from ../sqlite/options.ts:
// both stores answer the same TraceStore contract with the same defaults.
import { InvalidArgumentError } from "../../errors/mod.js";
import { silentLogger, type Logger } from "../../log/logger.js";

/**
 * Connections in the pool. A consumer writes one batch at a time and the
 * query API reads a few queries at once; more connections cost the server
 * (a backend process each) and gain nothing here.
 */
export const DEFAULT_POOL_SIZE = 4;
/** How long opening the store waits for the server before failing, ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface PostgresStoreOptions {
  /** A libpq-style URL, `postgres://user:password@host:port/db` (or `?host=/socket/dir`). Required. */
  url: string;
  /** Default DEFAULT_POOL_SIZE (4). */
  poolSize?: number;
  /** Default DEFAULT_CONNECT_TIMEOUT_MS (10 s). */
  connectTimeoutMs?: number;
  /** Default: silent. */
  log?: Logger;
}

export type ResolvedPostgresStoreOptions = Required<PostgresStoreOptions>;

export function resolvePostgresStoreOptions(opts: PostgresStoreOptions): ResolvedPostgresStoreOptions {
  if (!/^postgres(ql)?:\/\//.test(opts.url ?? "")) {
    throw InvalidArgumentError.format("url", `must be a postgres:// URL, got ${JSON.stringify(redactUrl(opts.url ?? ""))}`);
  }
  return {
    url: opts.url,
    poolSize: wholeAtLeastOne("poolSize", opts.poolSize, DEFAULT_POOL_SIZE),
    connectTimeoutMs: wholeAtLeastOne("connectTimeoutMs", opts.connectTimeoutMs, DEFAULT_CONNECT_TIMEOUT_MS),
    log: opts.log ?? silentLogger,
  };
}

/** The URL without its password: what errors and logs may show. */
export function redactUrl(url: string): string {
  return url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/, "$1:***@");
}

function wholeAtLeastOne(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw InvalidArgumentError.format(name, `must be a whole number >= 1, got ${String(value)}`);
  return value;
}
