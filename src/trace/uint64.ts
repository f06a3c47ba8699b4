// protobufjs decodes uint64 fields as Long objects whenever the `long` package
// is installed (it is, transitively), and leaves Long(0) prototype defaults on
// unset fields, whatever --force-number says. The stitcher only needs numbers:
// kernel timestamps and inode numbers stay far below 2^53.

interface LongLike {
  toNumber(): number;
}

/** A uint64 field as a JS number (0 for null/undefined). */
export function toNumber(v: number | LongLike | string | null | undefined): number {
  if (typeof v === "number") return v;
  if (v == null) return 0;
  if (typeof v === "string") return Number(v);
  return v.toNumber();
}
