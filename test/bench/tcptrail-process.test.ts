// Starting the built CLI for the sweep: what happens when it cannot get as
// far as attaching its probes (no bpftrace is run here).
import { readFileSync, readdirSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { freePort } from "../../src/transport/mod.js";
import { TCPTRAIL_BIN, startTcptrail } from "../../bench/tcptrail-process.js";
import { setupNats } from "../helpers/mod.js";

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
