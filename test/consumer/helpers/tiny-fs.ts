// A small private filesystem for store-fault tests (root only): a tmpfs of a
// given size mounted on a fresh temp dir, which a test can fill to the last
// byte (ENOSPC, SQLITE_FULL) and free again. close() unmounts and removes it;
// an exit hook unmounts (lazily) whatever a crashed run left mounted, so no
// test leaves a mount behind.
import { execFileSync } from "node:child_process";
import { closeSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { makeTempDir, type TempDir } from "../../helpers/mod.js";

export interface TinyFs {
  /** The mount point. */
  readonly path: string;
  /** Write a file until the filesystem is full; returns the bytes written. */
  fill(): number;
  /** Delete what fill() wrote. */
  free(): void;
  /** Unmount and remove the mount point. Idempotent. */
  close(): Promise<void>;
}

const mounted = new Set<string>();
let exitHook = false;

function unmount(path: string): void {
  try {
    // Lazy: an open SQLite file or a cwd inside must not keep the mount alive after the test.
    execFileSync("umount", ["-l", path], { stdio: "ignore" });
  } catch {
    // not mounted (any more)
  }
  mounted.delete(path);
}

export async function mountTinyFs(sizeBytes: number, label = "tinyfs"): Promise<TinyFs> {
  const dir: TempDir = await makeTempDir(label);
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes},mode=0700`, "tmpfs", dir.path], { stdio: "pipe" });
  } catch (e) {
    await dir.remove();
    throw e;
  }
  mounted.add(dir.path);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", () => {
      for (const path of [...mounted]) unmount(path);
    });
  }
  const filler = join(dir.path, "filler");
  let closed = false;
  return {
    path: dir.path,
    fill() {
      const chunk = Buffer.alloc(64 * 1024, 0x5a);
      const fd = openSync(filler, "a");
      let written = 0;
      try {
        for (;;) {
          try {
            written += writeSync(fd, chunk);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOSPC") break;
            throw e;
          }
        }
        // The last partial block: tmpfs takes whole pages, so finish with small writes.
        const small = Buffer.alloc(512, 0x5a);
        for (;;) {
          try {
            written += writeSync(fd, small);
          } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOSPC") break;
            throw e;
          }
        }
      } finally {
        closeSync(fd);
      }
      return written;
    },
    free() {
      rmSync(filler, { force: true });
    },
    async close() {
      if (closed) return;
      closed = true;
      unmount(dir.path);
      await dir.remove();
    },
  };
}
