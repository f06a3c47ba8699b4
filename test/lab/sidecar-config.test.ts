import { execa } from "execa";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { SIDECAR_DEFAULTS, isHttpReuse, isSidecarMode, sidecarConfig } from "../../src/lab/mod.js";
import { makeTempDir, type TempDir } from "../helpers/mod.js";

/** The lines of one section (`backend original_destination`), trimmed, up to the next blank line. */
function section(cfg: string, header: string): string[] {
  const lines = cfg.split("\n");
  const start = lines.indexOf(header);
  expect(start, `no "${header}" in\n${cfg}`).toBeGreaterThanOrEqual(0);
  const end = lines.findIndex((l, i) => i > start && l.trim() === "");
  return lines.slice(start + 1, end < 0 ? undefined : end).map((l) => l.trim());
}

describe("sidecarConfig", () => {
  it("defaults to a TCP proxy without any reuse directive", () => {
    const cfg = sidecarConfig();
    expect(SIDECAR_DEFAULTS.mode).toBe("tcp");
    expect(section(cfg, "defaults")).toContain("mode tcp");
    expect(cfg).not.toContain("http-reuse");
    expect(section(cfg, "backend original_destination")).toEqual(["server orig 0.0.0.0"]);
  });

  it("in HTTP mode puts http-reuse on the outbound original-destination backend only", () => {
    const cfg = sidecarConfig({ mode: "http", httpReuse: "always" });
    expect(section(cfg, "defaults")).toContain("mode http");
    expect(section(cfg, "backend original_destination")).toEqual(["http-reuse always", "server orig 0.0.0.0"]);
    expect(section(cfg, "backend local_app")).not.toContain("http-reuse always");
    expect(cfg.match(/http-reuse/g)).toHaveLength(1);
  });

  it("in HTTP mode without a reuse option writes HAProxy's own default, safe", () => {
    expect(section(sidecarConfig({ mode: "http" }), "backend original_destination")).toContain("http-reuse safe");
  });

  it("ignores the reuse option in TCP mode (reuse is an HTTP notion)", () => {
    expect(sidecarConfig({ mode: "tcp", httpReuse: "always" })).not.toContain("http-reuse");
  });

  it("has type guards for the mode and the reuse strategy", () => {
    expect(["tcp", "http", "udp", 1].map(isSidecarMode)).toEqual([true, true, false, false]);
    expect(["never", "safe", "aggressive", "always", "sometimes"].map(isHttpReuse)).toEqual([true, true, true, true, false]);
  });
});

describe("sidecarConfig against HAProxy's own parser (haproxy -c)", () => {
  let tmp: TempDir | undefined;
  afterAll(async () => tmp?.remove());

  for (const opts of [{}, { mode: "http", httpReuse: "always" }] as const) {
    it(`accepts ${JSON.stringify(opts)}`, async (ctx) => {
      const which = await execa("haproxy", ["-v"], { reject: false });
      if (which.exitCode !== 0) ctx.skip();
      tmp ??= await makeTempDir("haproxy-cfg");
      const file = join(tmp.path, `${opts && "mode" in opts ? opts.mode : "default"}.cfg`);
      await writeFile(file, sidecarConfig(opts));
      const r = await execa("haproxy", ["-c", "-f", file], { reject: false });
      expect(r.exitCode, `${r.stdout}\n${r.stderr}`).toBe(0);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/\[WARNING\]|\[ALERT\]/);
    });
  }
});
