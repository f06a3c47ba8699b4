// protobufjs decodes 64-bit fields as Long objects whenever the `long` package
// is installed (it is, as a protobufjs dependency), even though --force-number
// types them as number. Everything the store persists goes through here so a
// Long never reaches SQLite or JSON.

type LongLike = { toNumber(): number };

/** A uint64/int64 protobuf field as a JS number (0 for null/undefined). */
export function u64(v: unknown): number {
  if (typeof v === "number") return v;
  if (v == null) return 0;
  if (typeof v === "object" && typeof (v as LongLike).toNumber === "function") return (v as LongLike).toNumber();
  if (typeof v === "string" || typeof v === "bigint") return Number(v);
  return 0;
}
