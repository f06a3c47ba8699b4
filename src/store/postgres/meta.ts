// Small named values (the consumer's checkpoint) in the same database as the
// data they describe, so both survive or vanish together.
import type { PgConnection } from "./connection.js";

const GET_META = `SELECT value FROM meta WHERE key = $1`;
const SET_META = `INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`;

export async function getMeta(db: PgConnection, key: string): Promise<string | null> {
  return (await db.query<{ value: string }>(GET_META, [key]))[0]?.value ?? null;
}

export async function setMeta(db: PgConnection, key: string, value: string): Promise<void> {
  await db.query(SET_META, [key, value]);
}
