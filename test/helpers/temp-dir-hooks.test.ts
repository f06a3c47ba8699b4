// tempDirForAll: one dir for every test of its describe, gone after the last.
// The describes run in order, so the second sees what the first's afterAll did.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { tempDirForAll } from "./temp-dir-hooks.js";

const seen: string[] = [];

describe("tempDirForAll, while its tests run", () => {
  const tmp = tempDirForAll("hooks-check");
  it("gives the first test a dir it can write to", () => {
    writeFileSync(join(tmp.path, "kept"), "x");
    seen.push(tmp.path);
  });
  it("gives the next test the same dir, with what the first wrote", () => {
    expect(tmp.path).toBe(seen[0]);
    expect(existsSync(join(tmp.path, "kept"))).toBe(true);
  });
});

describe("tempDirForAll, after its describe", () => {
  it("has removed the dir", () => {
    expect(seen).toHaveLength(1);
    expect(existsSync(seen[0]!)).toBe(false);
  });
});

describe("tempDirForAll, read outside the hooks", () => {
  const tmp = tempDirForAll("hooks-early");
  // Collection runs before any beforeAll: reading the path now must fail
  // loudly rather than hand out a dir that does not exist yet.
  let collectionError: unknown;
  try {
    void tmp.path;
  } catch (e) {
    collectionError = e;
  }
  it("threw when read before beforeAll made the dir", () => {
    expect(collectionError).toBeInstanceOf(Error);
    expect((collectionError as Error).message).toMatch(/before beforeAll/);
    expect(existsSync(tmp.path)).toBe(true);
  });
});
