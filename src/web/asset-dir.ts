// Where the web view's built assets are: <package>/dist/web, written by
// `npm run build` (src/web/build.ts). Found from this module's own location,
// which is src/web (tests, tsx) or dist/src/web (the built CLI): walking up to
// the package's package.json gives the same answer from both.
import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const WEB_ASSET_SUBDIR = join("dist", "web");

/** The files the build writes (src/web/build.ts): all the server serves. */
export const WEB_ASSETS = ["index.html", "app.js", "app.css"] as const;
export type WebAssetName = (typeof WEB_ASSETS)[number];

/** The nearest directory above `from` whose package.json names this package. */
export function packageRoot(from: string = dirname(fileURLToPath(import.meta.url))): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const pkg = join(dir, "package.json");
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, "utf8")) as { name?: string }).name === "tcptrail") return dir;
    if (dirname(dir) === dir) throw new Error(`no tcptrail package.json above ${from}`);
  }
}

export const defaultWebAssetDir = (): string => join(packageRoot(), WEB_ASSET_SUBDIR);
