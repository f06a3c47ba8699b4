// probes/tcptrail.bt loads and reports on every bpftrace this machine has:
// the one on PATH (Debian 12: 0.17), deploy/setup.sh's private one (0.23) and
// $TCPTRAIL_BPFTRACE. A dry run is not enough (0.23 rejects at load time what
// 0.17 accepts), so each one really attaches and sees a refused connect.
// Root: bpftrace loads eBPF programs.
import { existsSync, realpathSync } from "node:fs";
import { createServer, connect, type AddressInfo } from "node:net";
import { join } from "node:path";
import { describe, expect, test } from "vitest";
import { EventKind, ResetReason } from "../../src/model/mod.js";
import {
  BPFTRACE_ENV,
  BpftraceRunner,
  DEFAULT_BPFTRACE_PREFIX,
  LineParser,
  bpftraceVersion,
  defaultProgramPath,
  findExecutable,
  type ParsedEvent,
} from "../../src/probes/mod.js";
import { isRoot, waitFor } from "../helpers/mod.js";

/** Every distinct bpftrace here, by where it was found. */
function candidates(): Array<{ label: string; bin: string }> {
  const found = [
    { label: "on PATH", bin: findExecutable("bpftrace") },
    { label: "deploy/setup.sh's private install", bin: join(DEFAULT_BPFTRACE_PREFIX, "bin", "bpftrace") },
    { label: `$${BPFTRACE_ENV}`, bin: process.env[BPFTRACE_ENV] },
  ];
  const seen = new Set<string>();
  const out: Array<{ label: string; bin: string }> = [];
  for (const { label, bin } of found) {
    if (!bin || !existsSync(bin)) continue;
    const real = realpathSync(bin);
    if (seen.has(real)) continue;
    seen.add(real);
    out.push({ label, bin });
  }
  return out;
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

const bins = candidates();

describe.skipIf(!isRoot() || bins.length === 0)("tcptrail.bt on each bpftrace", () => {
  test.each(bins)("bpftrace $label ($bin) attaches and reports a refused connect", async ({ bin }) => {
    const version = await bpftraceVersion(bin);
    expect(version, `${bin} --version`).toBeDefined();
    const events: ParsedEvent[] = [];
    const malformed: string[] = [];
    const crashes: string[] = [];
    let begun = false;
    const parser = new LineParser({
      onEvent: (e) => events.push(e),
      onBegin: () => void (begun = true),
      onMalformed: (line, reason) => malformed.push(`${reason}: ${line}`),
    });
    const runner = new BpftraceRunner({
      bpftrace: bin,
      ...(version ? { version } : {}),
      program: defaultProgramPath(),
      onLine: (l) => parser.parse(l),
      onCrash: (info) => crashes.push(info.stderr),
    });
    runner.start();
    try {
      await waitFor(
        () => {
          if (crashes.length > 0) throw new Error(`bpftrace exited before attaching: ${crashes[0]}`);
          return begun;
        },
        { what: "the BEGIN line", timeoutMs: 50_000 },
      );

      const port = await closedPort();
      const sock = connect(port, "127.0.0.1");
      await new Promise<void>((r) => sock.once("error", () => r()));

      const rst = await waitFor(() => events.find((e) => e.kind === EventKind.EVENT_KIND_RESET_SENT && e.local?.port === port), {
        what: "the NO_SOCKET reset from the closed port",
        timeoutMs: 10_000,
      });
      expect(rst.resetReason).toBe(ResetReason.RESET_REASON_NO_SOCKET);
      expect(rst.netns).toBeGreaterThan(0);
      const conn = await waitFor(
        () => events.find((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_CONNECT && e.process?.pid === process.pid && e.target?.port === port),
        { what: "this process's connect()", timeoutMs: 10_000 },
      );
      expect(conn.target?.ip).toBe("127.0.0.1");
      expect(malformed).toEqual([]);
    } finally {
      await runner.stop();
    }
  });
});
