// The prepared statements of one connection, prepared on first use and kept
// for its lifetime. Each concern module keeps its SQL next to the code that
// runs it and asks here by the SQL text; listTraces, which builds its SQL from
// the filter's shape, gets the few shapes that recur prepared once too.
import type Database from "better-sqlite3";

export class PreparedStatements {
  readonly db: Database.Database;
  readonly #bySql = new Map<string, Database.Statement>();

  constructor(db: Database.Database) {
    this.db = db;
  }

  get(sql: string): Database.Statement {
    let statement = this.#bySql.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.#bySql.set(sql, statement);
    }
    return statement;
  }
}
