// A private directory per test or test file under the OS temp dir, removed by
// remove() from afterEach/afterAll, and by an exit hook for whatever a crashed
// or interrupted run left behind, so test runs do not fill /tmp.
import { rmSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const DEFAULT_TEMP_LABEL = "test";

export interface TempDir {
  readonly path: string;
  /** Remove the directory and everything in it. Idempotent. */
  remove(): Promise<void>;
}

const live = new Set<string>();
let exitHook = false;

function removeLeftovers(): void {
  for (const dir of live) rmSync(dir, { recursive: true, force: true });
}

/**
 * Create `<tmpdir>/tcptrail-<label>-XXXXXX`. The label says which test made
 * it, for whoever finds one left over.
 */
export async function makeTempDir(label: string = DEFAULT_TEMP_LABEL): Promise<TempDir> {
  if (!/^[A-Za-z0-9._-]+$/.test(label)) throw new TypeError(`makeTempDir: label must be one path segment of [A-Za-z0-9._-], got ${JSON.stringify(label)}`);
  const path = await mkdtemp(join(tmpdir(), `tcptrail-${label}-`));
  live.add(path);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", removeLeftovers);
  }
  return {
    path,
    async remove() {
      live.delete(path);
      await rm(path, { recursive: true, force: true });
    },
  };
}
