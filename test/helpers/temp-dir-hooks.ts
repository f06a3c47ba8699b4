// One private temp dir shared by the tests of a file (or of the describe it
// is called in): made before the first, removed after the last. Kept apart
// from temp-dir.ts so that module stays free of vitest for code that runs
// outside a test (workers, child processes).
import { afterAll, beforeAll } from "vitest";
import { makeTempDir, type TempDir } from "./temp-dir.js";

export interface SharedTempDir {
  /** The directory; reading it outside the tests' hooks and bodies throws. */
  readonly path: string;
}

export function tempDirForAll(label: string): SharedTempDir {
  let tmp: TempDir | undefined;
  beforeAll(async () => {
    tmp = await makeTempDir(label);
  });
  afterAll(async () => {
    await tmp?.remove();
    tmp = undefined;
  });
  return {
    get path() {
      if (tmp === undefined) throw new Error(`temp dir ${label} is used before beforeAll made it or after afterAll removed it`);
      return tmp.path;
    },
  };
}
