// The agent refuses to start with one sentence that says what to do.
import { execa } from "execa";
import { describe, expect, it } from "vitest";
import { isPreflightError, preflight } from "../../src/probes/mod.js";

const BIN = new URL("../../bin/tcptrail", import.meta.url).pathname;
const isRoot = process.getuid?.() === 0;

describe("preflight", () => {
  it("a missing bpftrace names the package to install", async () => {
    const err = await preflight({ bpftrace: "/nonexistent/bpftrace" }).catch((e: unknown) => e);
    expect(isPreflightError(err)).toBe(true);
    expect((err as { code: string }).code).toBe("BPFTRACE_MISSING");
    expect(String((err as Error).message)).toMatch(/apt-get install -y bpftrace/);
  });

  it.skipIf(!isRoot)("finds the probes' tracepoints on this kernel (tracefs mounted when missing)", async () => {
    const f = await preflight();
    expect(f.bpftrace).toMatch(/bpftrace$/);
    expect(f.tracefs).toBe("/sys/kernel/tracing");
  });

  it.skipIf(!isRoot)("without root, `tcptrail agent` exits with one sentence that says to use sudo", async () => {
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
