// The pool of connections one store uses, and how values cross into and out
// of SQL. int8 columns (µs, seqs, counts) come back as numbers: every µs and
// seq is far below 2^53. Kernel ns are the exception (they pass 2^53 after
// 104 days of uptime): queries read them as text (`ts_ns::text`) and the
// code turns them into bigint, exact.
import pg from "pg";
import type { PoolClient, QueryResultRow } from "pg";

const INT8_OID = 20;

const int8AsNumber = (s: string): number => Number(s);

/** pg's parsers, with int8 as a number (see above); no global setting is changed. */
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary" ? int8AsNumber : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

export interface PgConnectionOptions {
  url: string;
  poolSize: number;
  connectTimeoutMs: number;
}

export class PgConnection {
  readonly #pool: pg.Pool;

  constructor(o: PgConnectionOptions) {
    this.#pool = new pg.Pool({
      connectionString: o.url,
      max: o.poolSize,
      connectionTimeoutMillis: o.connectTimeoutMs,
      types,
    });
    // An idle connection the server dropped (a restart) must not crash the
    // process: the pool discards it and the next query opens another.
    this.#pool.on("error", () => undefined);
  }

  async query<R extends QueryResultRow>(sql: string, params: unknown[] = []): Promise<R[]> {
    return (await this.#pool.query<R>(sql, params)).rows;
  }

  /** Run `fn` in one transaction on one connection: all or nothing. */
  async transaction<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query("BEGIN");
      const result = await fn(client);
      await client.query("COMMIT");
      return result;
    } catch (e) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw e;
    } finally {
      client.release();
    }
  }

  /** A connection of its own, for work that manages its own transactions (migration). */
  async withClient<T>(fn: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      return await fn(client);
    } finally {
      client.release();
    }
  }

  async end(): Promise<void> {
    await this.#pool.end();
  }
}
