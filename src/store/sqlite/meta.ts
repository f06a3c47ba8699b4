// Small named values (the consumer's replay checkpoint) kept in the same file
// as the data they describe, so both survive or vanish together.
import type { PreparedStatements } from "./statements.js";

const GET_META = `SELECT value FROM meta WHERE key = ?`;
const SET_META = `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`;

export function getMeta(statements: PreparedStatements, key: string): string | null {
  const row = statements.get(GET_META).get(key) as { value: string } | undefined;
  return row ? row.value : null;
}

export function setMeta(statements: PreparedStatements, key: string, value: string): void {
  statements.get(SET_META).run(key, value);
}
