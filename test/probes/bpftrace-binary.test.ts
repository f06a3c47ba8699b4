// Which bpftrace the agent runs, and how it treats each version.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import {
  BPFTRACE_ENV,
  BPFTRACE_PREFIX_ENV,
  DEFAULT_PERF_RB_PAGES,
  DEFAULT_RING_BUFFER_PAGES,
  bpftraceLimitsEnv,
  bpftraceVersion,
  defaultPerfRbPages,
  findBpftrace,
  isCurrentBpftrace,
  parseBpftraceVersion,
} from "../../src/probes/mod.js";
import { tempDirForAll } from "../helpers/mod.js";

const tmp = tempDirForAll("bpftrace-bin");

/** An executable that answers --version as a bpftrace of that version would. */
function fakeBpftrace(path: string, version: string): string {
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, `#!/bin/sh\n[ "$1" = --version ] && echo "bpftrace ${version}" && exit 0\nexit 1\n`);
  chmodSync(path, 0o755);
  return path;
}

describe("bpftrace version", () => {
  test("parsed from what bpftrace --version prints", () => {
    expect(parseBpftraceVersion("bpftrace v0.17.0\n")).toMatchObject({ major: 0, minor: 17, patch: 0, text: "v0.17.0" });
    expect(parseBpftraceVersion("bpftrace v0.23.2")).toMatchObject({ major: 0, minor: 23, patch: 2 });
    expect(parseBpftraceVersion("bpftrace v0.21.0-rc1")).toMatchObject({ major: 0, minor: 21, patch: 0, text: "v0.21.0-rc1" });
    expect(parseBpftraceVersion("bpftrace v1.2")).toMatchObject({ major: 1, minor: 2, patch: 0 });
    expect(parseBpftraceVersion("command not found")).toBeUndefined();
  });

  test("0.21 is the first current one; an unknown version counts as old", () => {
    const v = (s: string) => parseBpftraceVersion(s);
    expect(isCurrentBpftrace(v("v0.17.0"))).toBe(false);
    expect(isCurrentBpftrace(v("v0.20.4"))).toBe(false);
    expect(isCurrentBpftrace(v("v0.21.0"))).toBe(true);
    expect(isCurrentBpftrace(v("v0.23.2"))).toBe(true);
    expect(isCurrentBpftrace(v("v1.0.0"))).toBe(true);
    expect(isCurrentBpftrace(undefined)).toBe(false);
  });

  test("the output buffer is sized for the version: 2048 per-CPU perf pages before 0.21, 16384 ring-buffer pages after", () => {
    expect(DEFAULT_RING_BUFFER_PAGES).toBe(16384);
    expect(DEFAULT_PERF_RB_PAGES).toBe(2048);
    expect(defaultPerfRbPages(parseBpftraceVersion("v0.17.0"))).toBe(DEFAULT_PERF_RB_PAGES);
    expect(defaultPerfRbPages(parseBpftraceVersion("v0.23.2"))).toBe(DEFAULT_RING_BUFFER_PAGES);
    expect(defaultPerfRbPages(undefined)).toBe(DEFAULT_PERF_RB_PAGES);
  });

  test("each version gets the limit variables it knows (0.20 renamed them and warns on the old names)", () => {
    const limits = { perfRbPages: 4096, mapKeysMax: 1000, strlen: 64 };
    expect(bpftraceLimitsEnv(parseBpftraceVersion("v0.17.0"), limits)).toEqual({
      BPFTRACE_PERF_RB_PAGES: "4096",
      BPFTRACE_MAP_KEYS_MAX: "1000",
      BPFTRACE_STRLEN: "64",
    });
    expect(bpftraceLimitsEnv(parseBpftraceVersion("v0.23.2"), limits)).toEqual({
      BPFTRACE_PERF_RB_PAGES: "4096",
      BPFTRACE_MAX_MAP_KEYS: "1000",
      BPFTRACE_MAX_STRLEN: "64",
    });
  });

  test("read by running the binary; undefined when it fails", async () => {
    const ok = fakeBpftrace(join(tmp.path, "v", "bpftrace"), "v0.23.2");
    expect(await bpftraceVersion(ok)).toMatchObject({ major: 0, minor: 23, patch: 2 });
    const broken = join(tmp.path, "broken");
    writeFileSync(broken, "#!/bin/sh\necho 'error while loading shared libraries' >&2\nexit 127\n");
    chmodSync(broken, 0o755);
    expect(await bpftraceVersion(broken)).toBeUndefined();
    expect(await bpftraceVersion(join(tmp.path, "missing"))).toBeUndefined();
  });
});

describe("finding bpftrace", () => {
  let prefix: string;
  let onPath: string;
  let pathDir: string;
  let fromEnv: string;

  beforeAll(() => {
    prefix = join(tmp.path, "prefix");
    fakeBpftrace(join(prefix, "bin", "bpftrace"), "v0.23.2");
    pathDir = join(tmp.path, "path-bin");
    onPath = fakeBpftrace(join(pathDir, "bpftrace"), "v0.17.0");
    fromEnv = fakeBpftrace(join(tmp.path, "env-bin", "bpftrace"), "v0.22.0");
  });

  test("an explicit binary wins over everything", () => {
    const env = { [BPFTRACE_ENV]: fromEnv, PATH: pathDir };
    expect(findBpftrace({ bpftrace: "/somewhere/bpftrace", env, prefix })).toEqual({ path: "/somewhere/bpftrace", source: "option" });
  });

  test("then $TCPTRAIL_BPFTRACE", () => {
    expect(findBpftrace({ env: { [BPFTRACE_ENV]: fromEnv, PATH: pathDir }, prefix })).toEqual({ path: fromEnv, source: "env" });
  });

  test("then the private prefix's launcher, before PATH", () => {
    expect(findBpftrace({ env: { PATH: pathDir }, prefix })).toEqual({ path: join(prefix, "bin", "bpftrace"), source: "prefix" });
  });

  test("the private install moves with $TCPTRAIL_BPFTRACE_PREFIX, as in deploy/setup.sh", () => {
    expect(findBpftrace({ env: { PATH: pathDir, [BPFTRACE_PREFIX_ENV]: prefix } })).toEqual({ path: join(prefix, "bin", "bpftrace"), source: "prefix" });
  });

  test("then PATH, when the prefix has no launcher", () => {
    expect(findBpftrace({ env: { PATH: pathDir }, prefix: join(tmp.path, "no-such-prefix") })).toEqual({ path: onPath, source: "path" });
  });

  test("a launcher that is not executable does not count", () => {
    const halfDone = join(tmp.path, "half-done");
    mkdirSync(join(halfDone, "bin"), { recursive: true });
    writeFileSync(join(halfDone, "bin", "bpftrace"), "#!/bin/sh\n");
    expect(findBpftrace({ env: { PATH: pathDir }, prefix: halfDone })).toEqual({ path: onPath, source: "path" });
  });
});
