// The output-cost experiment's own parts: the /proc CPU reader, and the libbpf
// collector built and run on the real kernel, which must hand over the same
// fields bpftrace's script prints for the same connections, losing none.
import { createServer, connect, type AddressInfo } from "node:net";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildCollector, formatOutputCost, processCpuSeconds, type Collector } from "../../bench/output-cost.js";
import { findExecutable } from "../../src/probes/mod.js";
import { isRoot, makeTempDir, waitFor, type TempDir } from "../helpers/mod.js";

describe("processCpuSeconds", () => {
  test("reads utime + stime after the command name, whatever the name holds", () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const stat = "4242 (a) b (c)) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 125 0 0 20 0 3 0 1000 0 0";
    expect(processCpuSeconds(stat)).toBeCloseTo(3.75, 6);
    expect(processCpuSeconds(stat, 1000)).toBeCloseTo(0.375, 6);
  });

  test("refuses a line it cannot read", () => {
    expect(() => processCpuSeconds("4242 (x) S 1")).toThrow(/unreadable/);
  });
});

describe("formatOutputCost", () => {
  test("puts each tracer's ratio, records per connection and CPU per record on one row", () => {
    const churn = (achieved: number, completed: number, cpuSeconds: number) => ({
      offered: 1000, seconds: 1, dialers: 1, acceptors: 1, elapsed: 1, completed, aborted: completed / 2, graceful: completed / 2, failed: 0, achieved, perSecond: [completed], cpuSeconds,
    });
    const lines = formatOutputCost({
      bpftrace: "v0.23.2 at /x",
      runs: [{ offered: 1000, untraced: churn(1000, 1000, 0.04), tracers: [{ tracer: "bpftrace printf", churn: churn(800, 800, 0.048), records: 8000, cpuSeconds: 0.04, lost: 0 }] }],
    });
    const row = lines.find((l) => l.startsWith("bpftrace printf"));
    expect(row).toBeDefined();
    // ratio 0.80, 10 records per connection, 5 µs per record, 60 µs of churn CPU per connection
    expect(row!.split(/\s{2,}/).slice(1)).toEqual(["1,000", "800", "0.80", "8,000", "10.0", "5.00", "60.0", "0"]);
    expect(lines.find((l) => l.startsWith("untraced"))).toContain("40.0");
  });
});

const tools = ["clang", "bpftool", "gcc"].every((t) => findExecutable(t));

describe.runIf(isRoot() && tools)("libbpf collector (real kernel)", () => {
  let dir: TempDir;
  let collector: Collector;

  beforeAll(async () => {
    dir = await makeTempDir("output-cost");
    collector = await buildCollector(dir.path);
  }, 120_000);

  afterAll(async () => {
    await dir?.remove();
  });

  test("records a connection's transitions with their ports, as text and as 72-byte records, none lost", async () => {
    for (const mode of ["text", "bin"] as const) {
      const child = execa(collector.bin, [collector.object, mode], { reject: false, buffer: false, stdin: "ignore" });
      let stderr = "";
      const chunks: Buffer[] = [];
      child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      child.stdout.on("data", (d: Buffer) => chunks.push(d));
      try {
        await waitFor(() => /attached record=72/.test(stderr) || child.exitCode !== null, { what: `the ${mode} collector to attach`, timeoutMs: 30_000 });
        expect(child.exitCode).toBeNull();
        const server = createServer((s) => s.destroy());
        await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
        const port = (server.address() as AddressInfo).port;
        await new Promise<void>((resolve) => {
          const c = connect(port, "127.0.0.1");
          c.on("close", () => resolve());
          c.on("error", () => {});
        });
        await new Promise<void>((r) => server.close(() => r()));
        // The reader drains every 5 ms: wait until the client's SYN_SENT and the listener are out.
        const out = () => Buffer.concat(chunks);
        if (mode === "text") {
          await waitFor(() => out().toString().includes(` 7 2 127.0.0.1 `) && out().toString().includes(` 7 10 127.0.0.1 ${port} `), {
            what: "the client's SYN_SENT and the listener's LISTEN lines",
          });
          const lines = out().toString().trim().split("\n");
          // The client's CLOSE -> SYN_SENT names the listener as its destination port.
          expect(lines.some((l) => /^S \d+ [0-9a-f]+ \d+ \d+ 7 2 127\.0\.0\.1 \d+ 127\.0\.0\.1 (\d+) 0$/.exec(l)?.[1] === String(port))).toBe(true);
          child.kill("SIGINT");
          await child;
          const m = /records (\d+) lost (\d+)/.exec(stderr);
          expect(m?.[2]).toBe("0");
          expect(Number(m?.[1])).toBe(out().toString().trim().split("\n").length);
        } else {
          await waitFor(() => out().length >= 72 * 4, { what: "four records" });
          child.kill("SIGINT");
          await child;
          const m = /records (\d+) lost (\d+)/.exec(stderr);
          expect(m?.[2]).toBe("0");
          expect(out().length).toBe(72 * Number(m?.[1]));
        }
      } finally {
        if (child.exitCode === null) {
          child.kill("SIGKILL");
          await child;
        }
      }
    }
  }, 90_000);
});
