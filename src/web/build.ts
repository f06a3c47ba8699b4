// Bundles the web view (web/*.ts, the page's TypeScript, with the pure
// modules it imports from src) into static assets with esbuild: app.js,
// app.css and index.html in one directory, which the query API serves
// (src/query/server/routes/web.ts). `npm run build` runs this after tsc, into
// dist/web; the browser tests run it into a temp dir so they draw what the
// source says now, not a stale build.
//
// Everything the page needs is in those files: no CDN, no web font, nothing
// fetched from another origin (the server's Content-Security-Policy forbids it).
import { copyFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { defaultWebAssetDir, packageRoot } from "./asset-dir.js";

export interface WebBuildOptions {
  /** Where the assets go. Default <package>/dist/web. */
  outdir?: string;
  /** Default true: the shipped page is small; tests may turn it off to read stack traces. */
  minify?: boolean;
}

export async function buildWebAssets(opts: WebBuildOptions = {}): Promise<string> {
  const root = packageRoot();
  const outdir = opts.outdir ?? defaultWebAssetDir();
  await mkdir(outdir, { recursive: true });
  await build({
    entryPoints: { app: join(root, "web", "main.ts") },
    bundle: true,
    format: "esm",
    // What Debian 12's chromium and any browser of the last few years run.
    target: ["es2022"],
    platform: "browser",
    minify: opts.minify ?? true,
    sourcemap: false,
    legalComments: "none",
    outdir,
    logLevel: "warning",
  });
  await copyFile(join(root, "web", "style.css"), join(outdir, "app.css"));
  await copyFile(join(root, "web", "index.html"), join(outdir, "index.html"));
  return outdir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const outdir = await buildWebAssets({ outdir: process.argv[2] });
  console.log(`web view assets in ${outdir}`);
}
