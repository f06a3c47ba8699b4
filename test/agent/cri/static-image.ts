// A one-binary OCI image for a private containerd, built here: nothing is
// pulled. A few lines of C compiled static (no libc in the image), as the one
// layer of an OCI image layout written by hand and packed into the tar that
// `ctr images import` reads. The pause image and the test containers' TCP
// peer are made this way.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";

const sha256 = (b: Buffer | string): string => createHash("sha256").update(b).digest("hex");

/** Go's architecture name, as OCI image configs spell it. */
function ociArch(): string {
  return { x64: "amd64", arm64: "arm64" }[process.arch as string] ?? process.arch;
}

export interface StaticImage {
  /** The image reference containerd will know it by. */
  name: string;
  /** The binary's file name at the image's root, and its entrypoint (/<binary>). */
  binary: string;
  /** Its C source. */
  source: string;
}

/** Build the image tar in `dir` (made if absent) and return its path. */
export async function buildStaticImage(dir: string, image: StaticImage): Promise<string> {
  const rootfs = join(dir, "rootfs");
  const blobs = join(dir, "layout", "blobs", "sha256");
  mkdirSync(rootfs, { recursive: true });
  mkdirSync(blobs, { recursive: true });
  const source = join(dir, `${image.binary}.c`);
  writeFileSync(source, image.source);
  await execa("gcc", ["-static", "-O2", "-o", join(rootfs, image.binary), source]);
  // Reproducible layer: fixed owner and time.
  await execa("tar", ["--owner=0", "--group=0", "--numeric-owner", "--mtime=@0", "-C", rootfs, "-cf", join(dir, "layer.tar"), image.binary]);
  const blob = (bytes: Buffer | string): { digest: string; size: number } => {
    const hex = sha256(bytes);
    writeFileSync(join(blobs, hex), bytes);
    return { digest: `sha256:${hex}`, size: Buffer.byteLength(bytes) };
  };
  const layer = blob(readFileSync(join(dir, "layer.tar")));
  const config = blob(
    JSON.stringify({ architecture: ociArch(), os: "linux", config: { Entrypoint: [`/${image.binary}`] }, rootfs: { type: "layers", diff_ids: [layer.digest] } }),
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
          annotations: { "io.containerd.image.name": image.name },
          platform: { architecture: ociArch(), os: "linux" },
        },
      ],
    }),
  );
  const tar = join(dir, `${image.binary}-image.tar`);
  await execa("tar", ["-C", layout, "-cf", tar, "oci-layout", "index.json", "blobs"]);
  return tar;
}
