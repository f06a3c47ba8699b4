// Sizes as people type them: "512MiB", "10GiB", "1.5GB", "64kB", "4096B".
// Binary units (KiB, MiB, GiB, TiB) are powers of 1024, decimal ones (kB, MB,
// GB, TB) powers of 1000, as disks and `df -H` count; units read in any case,
// since "512mib" means nothing else. A unit is required: a bare "512" could be
// bytes or MiB, and a retention limit 2^20 times too small is a silent disaster.
import { InvalidSizeError } from "./errors.js";

/** What a size looks like; completes "<option> must be …". */
export const SIZE_SYNTAX = "a size like 512MiB, 10GiB, 1.5GB or 4096B";

const UNIT_BYTES: ReadonlyMap<string, number> = new Map([
  ["b", 1],
  ["kb", 1e3],
  ["mb", 1e6],
  ["gb", 1e9],
  ["tb", 1e12],
  ["kib", 2 ** 10],
  ["mib", 2 ** 20],
  ["gib", 2 ** 30],
  ["tib", 2 ** 40],
]);

const SIZE = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]+)$/;

/** Bytes in `text` (rounded down to a whole byte), or undefined when it is not a size. */
export function sizeBytes(text: string): number | undefined {
  const m = SIZE.exec(text.trim());
  if (!m) return undefined;
  const unit = UNIT_BYTES.get(m[2]!.toLowerCase());
  if (unit === undefined) return undefined;
  const bytes = Math.floor(Number(m[1]) * unit);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/**
 * @param option what the value was given for, named in the error ("--traces-max-size").
 * @throws InvalidSizeError
 */
export function parseSizeBytes(text: string, option: string): number {
  const bytes = sizeBytes(text);
  if (bytes === undefined) throw InvalidSizeError.expecting(option, text, SIZE_SYNTAX);
  return bytes;
}

const UNITS = [
  ["TiB", 2 ** 40],
  ["GiB", 2 ** 30],
  ["MiB", 2 ** 20],
  ["KiB", 2 ** 10],
  ["TB", 1e12],
  ["GB", 1e9],
  ["MB", 1e6],
  ["kB", 1e3],
] as const;

/**
 * The shortest exact spelling in the grammar above ("512MiB", "1GiB",
 * "1.5GB", "1kB"), so what --help prints can be typed back in: of
 * the units that take it in at most two decimals exactly, the shortest text;
 * bytes when none does.
 */
export function formatSize(bytes: number): string {
  let best = `${bytes}B`;
  for (const [unit, size] of UNITS) {
    const n = bytes / size;
    if (n < 1 || !Number.isInteger(n * 100)) continue;
    const text = `${n}${unit}`;
    // Decimal fractions are inexact in floating point: keep only what reads back as the same bytes.
    if (text.length < best.length && sizeBytes(text) === bytes) best = text;
  }
  return best;
}
