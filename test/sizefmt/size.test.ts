// The one size grammar: what retention flags read and --help prints.
import { describe, expect, it } from "vitest";
import { isInvalidArgumentError } from "../../src/errors/mod.js";
import { SIZE_SYNTAX, formatSize, isInvalidSizeError, parseSizeBytes, sizeBytes } from "../../src/sizefmt/mod.js";

describe("sizes", () => {
  it.each([
    ["512MiB", 536_870_912],
    ["10GiB", 10_737_418_240],
    ["1.5GB", 1_500_000_000],
    ["1.5GiB", 1_610_612_736],
    ["64kB", 64_000],
    ["64KiB", 65_536],
    ["2TB", 2e12],
    ["1TiB", 2 ** 40],
    ["4096B", 4096],
    ["0.5KiB", 512],
    [" 256 mib ", 268_435_456],
    ["1.0001KB", 1000],
  ])("%j is %d bytes", (text, bytes) => {
    expect(sizeBytes(text)).toBe(bytes);
  });

  it.each(["", "512", "MiB", "1.5", "10 GiBs", "5XB", "-1GiB", "1e3MB", "1,5GB", "1GiB512MiB", "99999999999TiB"])("%j is no size", (text) => {
    expect(sizeBytes(text)).toBeUndefined();
  });

  it("names the option and the grammar when it refuses, as an invalid argument", () => {
    let err: unknown;
    try {
      parseSizeBytes("lots", "--traces-max-size");
    } catch (e) {
      err = e;
    }
    expect(isInvalidSizeError(err)).toBe(true);
    expect(isInvalidArgumentError(err)).toBe(true);
    expect((err as Error).message).toBe(`--traces-max-size must be ${SIZE_SYNTAX} (got "lots")`);
    expect((err as { property: string }).property).toBe("--traces-max-size");
  });

  it.each([
    [512 * 2 ** 20, "512MiB"],
    [2 ** 30, "1GiB"],
    [1.5 * 2 ** 30, "1.5GiB"],
    [3 * 2 ** 40, "3TiB"],
    [1536, "1536B"],
    [1.5 * 2 ** 20, "1.5MiB"],
    [1000, "1kB"],
    [1_500_000_000, "1.5GB"],
    [1023, "1023B"],
    [1_048_577, "1048577B"],
  ])("%d prints as %j, which reads back the same", (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
    expect(sizeBytes(text)).toBe(bytes);
  });
});
