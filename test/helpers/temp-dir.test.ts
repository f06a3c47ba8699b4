import { existsSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { makeTempDir } from "./temp-dir.js";

describe("makeTempDir", () => {
  it("makes a private labelled directory that remove() deletes with its contents, twice without error", async () => {
    const a = await makeTempDir("helpers-check");
    const b = await makeTempDir("helpers-check");
    expect(a.path).not.toBe(b.path);
    expect(dirname(a.path)).toBe(tmpdir());
    expect(basename(a.path)).toMatch(/^tcptrail-helpers-check-.{6}$/);
    expect(statSync(a.path).mode & 0o777).toBe(0o700);
    writeFileSync(join(a.path, "f"), "x");
    await a.remove();
    await a.remove();
    expect(existsSync(a.path)).toBe(false);
    expect(existsSync(b.path)).toBe(true);
    await b.remove();
  });

  it("refuses a label that is not one path segment", async () => {
    await expect(makeTempDir("../escape")).rejects.toThrow(TypeError);
  });
});
