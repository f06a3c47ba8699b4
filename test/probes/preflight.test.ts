// The agent refuses to start with one sentence that says what to do.
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { BPFTRACE_ENV, isBpftraceMissingError, isBpftraceUnusableError, isCurrentBpftrace, isPreflightError, preflight } from "../../src/probes/mod.js";
import { itRoot, makeTempDir } from "../helpers/mod.js";

const BIN = new URL("../../bin/tcptrail", import.meta.url).pathname;

describe("preflight", () => {
  it("a missing bpftrace names the package to install", async () => {
    const err = await preflight({ bpftrace: "/nonexistent/bpftrace" }).catch((e: unknown) => e);
    expect(isPreflightError(err)).toBe(true);
    expect(isBpftraceMissingError(err)).toBe(true);
    expect((err as { code: string }).code).toBe("ERR_PROBES_BPFTRACE_MISSING");
    expect(String((err as Error).message)).toMatch(/apt-get install -y bpftrace/);
  });

  it("a missing bpftrace named by $TCPTRAIL_BPFTRACE says where it looked", async () => {
    const err = await preflight({ env: { [BPFTRACE_ENV]: "/nonexistent/bpftrace" } }).catch((e: unknown) => e);
    expect(isBpftraceMissingError(err)).toBe(true);
    expect(String((err as Error).message)).toContain(`at /nonexistent/bpftrace (from $${BPFTRACE_ENV})`);
  });

  itRoot("finds the probes' tracepoints on this kernel (tracefs mounted when missing)", async () => {
    const f = await preflight();
    expect(f.bpftrace).toMatch(/bpftrace$/);
    expect(f.tracefs).toBe("/sys/kernel/tracing");
  });

  itRoot("reports the version of the bpftrace it found", async () => {
    const f = await preflight();
    const printed = await execa(f.bpftrace, ["--version"]);
    expect(printed.stdout).toContain(f.bpftraceVersion.text);
    expect(f.currentBpftrace).toBe(isCurrentBpftrace(f.bpftraceVersion));
  });

  itRoot("a bpftrace that does not run (a broken install) says to rerun deploy/setup.sh", async () => {
    const dir = await makeTempDir("preflight");
    try {
      const broken = join(dir.path, "bpftrace");
      writeFileSync(broken, "#!/bin/sh\necho 'error while loading shared libraries: libLLVM.so.19.1' >&2\nexit 127\n");
      chmodSync(broken, 0o755);
      const err = await preflight({ bpftrace: broken }).catch((e: unknown) => e);
      expect(isPreflightError(err) && isBpftraceUnusableError(err)).toBe(true);
      expect((err as { code: string }).code).toBe("ERR_PROBES_BPFTRACE_UNUSABLE");
      // It says why, in bpftrace's own words, so a broken library is told from a missing one.
      expect(String((err as Error).message)).toMatch(/--version` failed \(from --bpftrace; exit 127: error while loading shared libraries: libLLVM\.so\.19\.1\): run deploy\/setup\.sh/);
    } finally {
      await dir.remove();
    }
  });

  itRoot("without root, `tcptrail agent` exits with one sentence that says to use sudo", async () => {
    const r = await execa(process.execPath, [BIN, "agent", "--no-metrics", "--nats", "nats://127.0.0.1:1"], {
      uid: 65534,
      gid: 65534,
      reject: false,
      env: { HOME: "/tmp" },
    });
    expect(r.exitCode).toBe(1);
    // NATS is checked after the machine: the privilege problem is what the user hears about.
    expect(r.stderr.trim().split("\n").at(-1)).toMatch(/^tcptrail: .*must run as root: run it with sudo\.$/);
  });
});
