// Starting the built CLI for the sweep: what happens when it cannot get as
// far as attaching its probes (no bpftrace is run here).
import { chmodSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { freePort } from "../../src/transport/mod.js";
import { TCPTRAIL_BIN, startTcptrail } from "../../bench/tcptrail-process.js";
import { findExecutable } from "../../src/probes/mod.js";
import { makeTempDir, setupNats, waitFor } from "../helpers/mod.js";

describe("tcptrail process", () => {
  test("the entry point is found from source as from dist", () => {
    expect(TCPTRAIL_BIN).toMatch(/\/bin\/tcptrail$/);
  });

  test("a tcptrail that exits before its probes attach fails the start, with its log in the error", async () => {
    const metricsPort = await freePort();
    const started = startTcptrail(["agent", "--nats", "nats://127.0.0.1:1", "--metrics-port", String(metricsPort), "--bpftrace", "/nonexistent/bpftrace"], {
      metricsPort,
      readyTimeoutMs: 30_000,
    });
    await expect(started).rejects.toThrow(/exited \(\d+\) before its probes were attached:[\s\S]*nonexistent/);
  });

  test("one that never attaches is stopped at the ready timeout", async () => {
    // With the streams there, so `observe -f` follows (and waits) instead of failing.
    const setup = await setupNats();
    const nats = setup.server;
    try {
      const metricsPort = await freePort();
      // `observe -f` on a live NATS runs until stopped and never logs "probes attached".
      const started = startTcptrail(["observe", "-f", "--nats", nats.url], { metricsPort, readyTimeoutMs: 1500 });
      await expect(started).rejects.toThrow(/not ready after 1500 ms \(probes attached: false/);
      // Stopped, not left behind: its pid is gone.
      const pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
      const left = pids.filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, "utf8").includes(nats.url) && readFileSync(`/proc/${p}/cmdline`, "utf8").includes("observe");
        } catch {
          return false;
        }
      });
      expect(left).toEqual([]);
    } finally {
      await setup.close();
    }
  });
});

describe("a tracer that ignores SIGINT", () => {
  test("is killed at the stop timeout, and the nats-server it logged is ended with it", async () => {
    const dir = await makeTempDir("tcptrail-process");
    try {
      // Stands in for `tcptrail run`: starts a detached "nats-server" (a sleep
      // under that name), logs its pid as run does, serves /metrics, and hangs on SIGINT.
      const fakeNats = join(dir.path, "nats-server");
      symlinkSync(findExecutable("sleep")!, fakeNats);
      const bin = join(dir.path, "fake-tcptrail.mjs");
      writeFileSync(
        bin,
        `#!/usr/bin/env node
import { spawn } from "node:child_process";
import { createServer } from "node:http";
const nats = spawn(${JSON.stringify(fakeNats)}, ["300"], { detached: true, stdio: "ignore" });
nats.unref();
process.on("SIGINT", () => {});
createServer((q, s) => s.end("tcptrail_events_read_total 1\\n")).listen(Number(process.argv[2]), "127.0.0.1", () => {
  console.error(JSON.stringify({ natsPid: nats.pid, msg: "embedded nats-server started" }));
  console.error(JSON.stringify({ msg: "probes attached" }));
});
`,
      );
      chmodSync(bin, 0o755);
      const metricsPort = await freePort();
      const proc = await startTcptrail([String(metricsPort)], { metricsPort, bin, stopTimeoutMs: 300 });
      const natsPid = Number(/"natsPid":(\d+)/.exec(proc.output())?.[1]);
      expect(readFileSync(`/proc/${natsPid}/cmdline`, "utf8")).toContain("nats-server");
      const exit = await proc.stop();
      expect(exit.killed).toBe(true);
      expect(exit.signal).toBe("SIGKILL");
      expect(exit.stopMs).toBeGreaterThanOrEqual(300);
      // Gone (or a zombie until init reaps it): no longer a running nats-server.
      await waitFor(() => !isRunning(natsPid), { what: `fake nats-server ${natsPid} to end` });
    } finally {
      await dir.remove();
    }
  });
});

function isRunning(pid: number): boolean {
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return false;
  }
}
