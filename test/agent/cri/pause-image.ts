// The pod sandbox image for a private containerd, built here: nothing is
// pulled. A static `pause` (a few lines of C that sleep until signalled), as
// the one layer of an OCI image layout written by hand and packed into the
// tar that `ctr images import` reads.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";

const PAUSE_C = `#include <signal.h>
#include <unistd.h>
static void stop(int sig) { (void)sig; _exit(0); }
int main(void) { signal(SIGTERM, stop); signal(SIGINT, stop); for (;;) pause(); }
`;

const sha256 = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");

/** Go's architecture name, as OCI image configs spell it. */
function ociArch(): string {
  return { x64: "amd64", arm64: "arm64" }[process.arch as string] ?? process.arch;
}

/** Build the image tar in `dir` and return its path. `name` is the image reference containerd will know it by. */
export async function buildPauseImage(dir: string, name: string): Promise<string> {
  const rootfs = join(dir, "rootfs");
  const blobs = join(dir, "layout", "blobs", "sha256");
  mkdirSync(rootfs, { recursive: true });
  mkdirSync(blobs, { recursive: true });
  writeFileSync(join(dir, "pause.c"), PAUSE_C);
  await execa("gcc", ["-static", "-O2", "-o", join(rootfs, "pause"), join(dir, "pause.c")]);
  // Reproducible layer: fixed owner and time.
  await execa("tar", ["--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", rootfs, "-cf", join(dir, "layer.tar"), "pause"]);
  const blob = (bytes: Buffer | string): { digest: string; size: number } => {
    const hex = sha256(bytes);
    writeFileSync(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(bytes) };
  };
  const layer = blob(readFileSync(join(dir, "layer.tar")));
  const config = blob(
    JSON.stringify({ architecture: ociArch(), os: "linux", config: { Entrypoint: ["/pause"] }, rootfs: { type: "layers", diff_ids: [layer.digest] } }),
  );
  const manifest = blob(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...config },
      layers: [{ mediaType: "application/vnd.oci.image.layer.v1.tar", ...layer }],
    }),
  );
  const layout = join(dir, "layout");
  writeFileSync(join(layout, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  writeFileSync(
    join(layout, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          ...manifest,
          // containerd names the imported image by this annotation.
          annotations: { "io.containerd.image.name": name },
          platform: { architecture: ociArch(), os: "linux" },
        },
      ],
    }),
  );
  const tar = join(dir, "pause-image.tar");
  await execa("tar", ["-C", layout, "-cf", tar, "oci-layout", "index.json", "blobs"]);
  return tar;
}
