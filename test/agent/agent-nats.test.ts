// The node agent end to end on this kernel: real bpftrace, real nats-server,
// events read back (decoded) from JetStream. Needs root.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { EventKind, ResetReason, Role, TcpState, type ConnEvent } from "../../src/model/mod.js";
import { startAgentService, type AgentService } from "../../src/runtime/mod.js";
import { connectNats, freePort, subscribeEvents, type EventSubscription, type NatsConnection } from "../../src/transport/mod.js";
import { silentLogger } from "../../src/log/logger.js";
import { makeTempDir, startNatsServer, waitFor, type TempDir, type TestNatsServer } from "../helpers/mod.js";

const DRIVER = new URL("./fixtures/tcp-driver.py", import.meta.url).pathname;
const node = `itest-${process.pid}`;
const events: ConnEvent[] = [];
let dir: TempDir;
let nats: TestNatsServer;
let service: AgentService;
let nc: NatsConnection;
let sub: EventSubscription;
let server: ResultPromise;
let serverPid: number;
let serverPort: number;

async function actor(...args: string[]): Promise<number> {
  const r = await execa("python3", [DRIVER, ...args]);
  return Number(r.stdout.split("\n")[0]);
}

const bySock = (sock: string) => events.filter((e) => e.sock === sock);

beforeAll(async () => {
  dir = await makeTempDir("agent");
  nats = await startNatsServer({ label: "agent-nats" });
  service = await startAgentService({ natsUrl: nats.url, node, logger: silentLogger, agent: { reorderWindowMs: 50 } });
  nc = await connectNats(nats.url);
  sub = await subscribeEvents(nc, { node, follow: true, since: new Date(Date.now() - 60_000) });
  void (async () => {
    for await (const { batch } of sub) events.push(...batch.events);
  })();
  const portFile = join(dir.path, "port");
  server = execa("python3", [DRIVER, "serve", portFile], { reject: false });
  serverPid = server.pid!;
  serverPort = await waitFor(() => {
    try {
      return Number(readFileSync(portFile, "utf8")) || undefined;
    } catch {
      return undefined;
    }
  }, { what: "the test server" });
});

afterAll(async () => {
  server?.kill("SIGKILL");
  await sub?.close().catch(() => undefined);
  await nc?.close().catch(() => undefined);
  await service?.stop().catch(() => undefined);
  await nats?.close();
  await dir?.remove();
});

describe("agent → NATS on a real kernel", () => {
  test("a connect to a closed port: NO_SOCKET reset sent, failed connect attributed to the caller", async () => {
    const port = await freePort(); // bound and released: nothing listens there now
    const pid = await actor("refused", String(port));
    const connect = await waitFor(
      () => events.find((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_CONNECT && e.process?.pid === pid),
      { what: "the failed connect" },
    );
    expect(connect.ret).toBe(-111);
    expect(connect.target).toMatchObject({ ip: "127.0.0.1", port });
    const rst = await waitFor(
      () => events.find((e) => e.kind === EventKind.EVENT_KIND_RESET_SENT && e.local?.port === port && e.remote?.port === connect.local?.port),
      { what: "the NO_SOCKET reset" },
    );
    expect(rst.resetReason).toBe(ResetReason.RESET_REASON_NO_SOCKET);
    expect(rst.sock).toBe("");
    // socket addresses are reused: take this socket's last transition before connect() returned
    const closed = bySock(connect.sock)
      .filter((e) => e.kind === EventKind.EVENT_KIND_STATE_CHANGE && e.tsNs <= connect.tsNs)
      .at(-1);
    expect(closed?.newState).toBe(TcpState.TCP_STATE_CLOSE);
    expect(closed?.oldState).toBe(TcpState.TCP_STATE_SYN_SENT);
    expect(closed?.owner?.pid).toBe(pid);
  });

  test("an abort with SO_LINGER 0: the reset is attributed to the aborting process, with the kernel's reason", async () => {
    const pid = await actor("abort", String(serverPort));
    const rst = await waitFor(
      () => events.find((e) => e.kind === EventKind.EVENT_KIND_RESET_SENT && e.owner?.pid === pid),
      { what: "the abort reset" },
    );
    expect(rst.sock).not.toBe("");
    expect(rst.resetReason).not.toBe(ResetReason.RESET_REASON_UNSPECIFIED);
    expect(rst.remote?.port).toBe(serverPort);
    // The server's side hears the RST in softirq, on the aborting process's CPU time:
    // the event must still name the server process, the socket's owner.
    const heard = await waitFor(
      () => events.find((e) => e.kind === EventKind.EVENT_KIND_RESET_RECEIVED && e.local?.port === serverPort && e.remote?.port === rst.local?.port),
      { what: "the server's reset received" },
    );
    expect(heard.owner?.pid).toBe(serverPid);
    expect(heard.process).toBeFalsy();
  });

  test("a graceful close names the side that sent the first FIN", async () => {
    const pid = await actor("graceful", String(serverPort));
    const fin = await waitFor(
      () => events.find((e) => e.owner?.pid === pid && e.oldState === TcpState.TCP_STATE_ESTABLISHED && e.newState === TcpState.TCP_STATE_FIN_WAIT1),
      { what: "the client's FIN" },
    );
    const peer = await waitFor(
      () => events.find((e) => e.newState === TcpState.TCP_STATE_CLOSE_WAIT && e.local?.port === serverPort && e.remote?.port === fin.local?.port),
      { what: "the server's CLOSE_WAIT" },
    );
    expect(peer.owner?.pid).toBe(serverPid);
    // and the server's own FIN comes after, from LAST_ACK
    await waitFor(() => bySock(peer.sock).find((e) => e.newState === TcpState.TCP_STATE_LAST_ACK), { what: "the server's LAST_ACK" });
  });

  test("a connection made by UID 1337 is marked SIDECAR", async () => {
    const pid = await actor("as-uid", "1337", String(serverPort));
    const syn = await waitFor(
      () => events.find((e) => e.owner?.pid === pid && e.newState === TcpState.TCP_STATE_SYN_SENT),
      { what: "the sidecar's SYN" },
    );
    expect(syn.uid).toBe(1337);
    expect(syn.role).toBe(Role.ROLE_SIDECAR);
    // the peer accepted by the app (root) stays APP
    const accepted = await waitFor(
      () => events.find((e) => e.kind === EventKind.EVENT_KIND_SYSCALL_ACCEPT && e.remote?.ip === "127.0.0.1" && bySock(syn.sock).some((s) => s.local?.port === e.remote?.port)),
      { what: "the server's accepted socket" },
    );
    expect(accepted.role).toBe(Role.ROLE_APP);
  });

  test("bpftrace killed mid-run: restarted, logged, and a gap marker published", async () => {
    const first = service.agent.bpftracePid!;
    expect(first).toBeGreaterThan(0);
    process.kill(first, "SIGKILL");
    const gap = await waitFor(
      () => events.find((e) => e.kind === EventKind.EVENT_KIND_GAP && /restarted/.test(e.gapReason)),
      { what: "the gap marker", timeoutMs: 20_000 },
    );
    expect(gap.tsNs).toBeGreaterThanOrEqual(gap.gapStartNs);
    const second = service.agent.bpftracePid!;
    expect(second).not.toBe(first);
    expect(service.stats().agent.bpftraceRestarts).toBe(1);
    // and events flow again
    const port = await freePort();
    const pid = await actor("refused", String(port));
    await waitFor(() => events.find((e) => e.process?.pid === pid && e.tsNs > gap.tsNs), { what: "an event after the restart" });
  }, 40_000);

  test("events leave each node in kernel timestamp order with increasing seq", async () => {
    const mine = events.slice();
    for (let i = 1; i < mine.length; i++) {
      expect(mine[i]!.seq).toBeGreaterThan(mine[i - 1]!.seq);
      expect(mine[i]!.tsNs).toBeGreaterThanOrEqual(mine[i - 1]!.tsNs);
    }
    expect(mine.length).toBeGreaterThan(10);
  });

  test("stopping the agent leaves no bpftrace process", async () => {
    const pid = service.agent.bpftracePid!;
    await service.stop();
    expect(() => process.kill(pid, 0)).toThrow();
    const r = await execa("pgrep", ["-P", String(process.pid), "-x", "bpftrace"], { reject: false });
    expect(r.stdout.trim()).toBe("");
  });
});

describe("a probe program bpftrace cannot load", () => {
  test("start() fails with bpftrace's own error and leaves no process behind", async () => {
    const { Agent } = await import("../../src/agent/mod.js");
    const { writeFileSync } = await import("node:fs");
    const bad = join(dir.path, "bad.bt");
    writeFileSync(bad, "tracepoint:sock:no_such_tracepoint { printf(\"x\\n\"); }\n");
    const agent = new Agent({ sink: () => undefined, program: bad });
    await expect(agent.start()).rejects.toThrow(/bpftrace exited before attaching its probes: .+/);
    expect(agent.bpftracePid).toBeUndefined();
  }, 60_000);
});
